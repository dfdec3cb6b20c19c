"""Property tests: amounts, card numbers, and the receipt state machine."""
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from app.models import LedgerEntry, Member, Receipt, utcnow
from app.services import receipts
from app.services.amounts import MAX_AMOUNT, check_amount, parse_amount
from app.services.cards import normalize_card_number
from app.services.errors import InvalidAmount, ValidationFailed
from app.services.receipts import InvalidTransition, OpenReceiptExists, Reviewer
from tests.factories import luhn_complete

PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@given(st.integers(min_value=1, max_value=MAX_AMOUNT))
def test_every_amount_in_range_is_accepted_as_int_and_typed_text(value):
    assert check_amount(value) == value
    assert parse_amount(f"{value:,}") == value
    assert parse_amount(f"{value:,}".translate(PERSIAN).replace(",", "٬")) == value


@given(st.one_of(st.integers(max_value=0), st.integers(min_value=MAX_AMOUNT + 1), st.floats(), st.booleans(),
                 st.none(), st.text(alphabet="-.e+ abc")))
def test_everything_else_is_an_invalid_amount(value):
    with pytest.raises(InvalidAmount):
        parse_amount(value) if isinstance(value, str) else check_amount(value)


digits15 = st.text(alphabet="0123456789", min_size=15, max_size=15)


@given(digits15, st.lists(st.sampled_from([" ", "-", ""]), min_size=3, max_size=3), st.booleans())
def test_luhn_valid_numbers_are_accepted_however_typed(prefix, separators, persian):
    number = luhn_complete(prefix)
    typed = "".join(number[i:i + 4] + (separators[i // 4] if i < 12 else "") for i in range(0, 16, 4))
    assert normalize_card_number(typed.translate(PERSIAN) if persian else typed) == number


@given(digits15, st.integers(min_value=0, max_value=15), st.integers(min_value=1, max_value=9))
def test_any_single_mistyped_digit_is_refused(prefix, position, shift):
    number = luhn_complete(prefix)
    wrong = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1:]
    with pytest.raises(ValidationFailed):
        normalize_card_number(wrong)


@given(st.text(max_size=24).filter(lambda t: sum(c.isdigit() for c in t) != 16))
def test_text_without_sixteen_digits_is_refused(text):
    with pytest.raises(ValidationFailed):
        normalize_card_number(text)


#: The diagram: operation → (states it may start from, state it ends in).
TRANSITIONS = {
    "submit": ({"awaiting_receipt"}, "pending_review"),
    "approve": ({"pending_review"}, "approved"),
    "reject": ({"pending_review"}, "rejected"),
    "cancel": ({"awaiting_receipt", "pending_review"}, "cancelled"),
    "expire": ({"awaiting_receipt", "pending_review"}, "expired"),
}
OPEN = {"awaiting_receipt", "pending_review"}


def test_no_sequence_of_operations_leaves_the_receipt_diagram(db, make):
    tenant = make.tenant()
    make.card(tenant)
    plan = make.plan(tenant, price=50_000)
    ids = {"tenant": tenant.id, "plan": plan.id}

    class ReceiptMachine(RuleBasedStateMachine):
        @initialize()
        def setup(self):
            self.member = make.member(db.session.get(type(tenant), ids["tenant"]))
            self.expected: dict[int, str] = {}

        def current(self):
            return receipts.open_receipt_of(self.member) or (
                db.session.get(Receipt, max(self.expected)) if self.expected else None)

        @rule(amount=st.integers(min_value=1_000, max_value=500_000), for_plan=st.booleans())
        def open(self, amount, for_plan):
            has_open = any(s in OPEN for s in self.expected.values())
            try:
                from app.models import Plan
                kwargs = {"plan": db.session.get(Plan, ids["plan"])} if for_plan else {"amount": amount}
                receipt = receipts.open_invoice(self.member, **kwargs)
                db.session.commit()
            except OpenReceiptExists:
                db.session.rollback()
                assert has_open
                return
            assert not has_open
            self.expected[receipt.id] = receipt.status

        @precondition(lambda self: self.expected)
        @rule(op=st.sampled_from(sorted(TRANSITIONS)), by_account=st.booleans(), other_amount=st.booleans())
        def transition(self, op, by_account, other_amount):
            receipt = self.current()
            before = self.expected[receipt.id]
            allowed, target = TRANSITIONS[op]
            try:
                self._do(op, receipt, other_amount)
                db.session.commit()
            except InvalidTransition:
                db.session.rollback()
                assert before not in allowed, (op, before)
                return
            assert before in allowed, (op, before)
            self.expected[receipt.id] = target

        def _do(self, op, receipt, other_amount):
            reviewer = Reviewer(telegram_id=4242)
            if op == "submit":
                receipts.submit(receipt, telegram_file_id="photo")
            elif op == "approve":
                receipts.approve(receipt, reviewer, amount=12_345 if other_amount else None)
            elif op == "reject":
                receipts.reject(receipt, reviewer, "nothing arrived")
            elif op == "cancel":
                receipts.cancel(receipt, self.member)
            else:
                if receipt.status not in OPEN:
                    raise InvalidTransition("not open")
                receipt.expires_at = utcnow() - timedelta(seconds=1)
                assert [r.id for r in receipts.expire_stale(db.session.get(type(tenant), ids["tenant"]))] == [receipt.id]

        @invariant()
        def matches_the_model_and_credits_once(self):
            if not getattr(self, "expected", None):
                return
            db.session.expire_all()
            actual = dict(db.session.execute(sa.select(Receipt.id, Receipt.status)
                                             .where(Receipt.member_id == self.member.id)).all())
            assert actual == self.expected
            assert sum(s in OPEN for s in actual.values()) <= 1
            credited = db.session.scalars(sa.select(LedgerEntry.ref_id).where(
                LedgerEntry.member_id == self.member.id, LedgerEntry.ref_type == "receipt")).all()
            assert sorted(credited) == sorted(i for i, s in actual.items() if s == "approved")
            entries = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0))
                                        .where(LedgerEntry.member_id == self.member.id))
            assert db.session.get(Member, self.member.id).balance == entries >= 0

    run_state_machine_as_test(ReceiptMachine, settings=settings(
        max_examples=25, stateful_step_count=12, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
