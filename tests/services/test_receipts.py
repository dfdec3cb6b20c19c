import re
from datetime import UTC, timedelta

import pytest
import sqlalchemy as sa

from app.models import (
    Account,
    AuditLog,
    Member,
    Membership,
    PaymentCard,
    Receipt,
    Role,
    Subscription,
    Tenant,
    TenantNotice,
    utcnow,
)
from app.services import receipts, wallet
from app.services.cards import NoCardAvailable
from app.services.clock import tenant_today as local_today
from app.services.errors import DomainError, InvalidAmount, NotAllowed, NotFound, ValidationFailed
from app.services.receipts import InvalidTransition, OpenReceiptExists, Reviewer
from tests.services.money_helpers import assert_books_balance, count, snapshot

ADMIN = Reviewer(telegram_id=555)


@pytest.fixture
def shop(db, make):
    tenant = make.tenant(wallet_credit_limit=0)
    wallet.topup_wallet(tenant, 1_000_000, key="seed", actor="system")
    card = make.card(tenant, daily_cap=10_000_000)
    member = make.member(tenant)
    plan = make.plan(tenant, price=200_000, period_days=30, traffic_gb=10)
    db.session.commit()
    return tenant, card, member, plan


def pending(member, **kw):
    receipt = receipts.open_invoice(member, **kw)
    return receipts.submit(receipt, telegram_file_id="file-1", text="ref 42")


def test_open_invoice_for_a_topup(db, make, shop):
    tenant, card, member, _ = shop
    bot = make.bot(tenant)
    receipt = receipts.open_invoice(member, amount=150_000, bot=bot)
    db.session.commit()
    assert (receipt.purpose, receipt.amount, receipt.status, receipt.card_id, receipt.bot_id) == (
        "topup", 150_000, "awaiting_receipt", card.id, bot.id)
    assert re.fullmatch(r"C2C-[2-9A-HJKMNP-Z]{6}", receipt.tracking_code)
    assert receipt.expires_at - receipt.created_at == timedelta(hours=24)
    assert receipts.open_receipt_of(member).id == receipt.id
    assert db.session.get(PaymentCard, card.id).times_shown == 1


def test_open_invoice_for_a_plan_asks_its_price(db, shop):
    _, _, member, plan = shop
    receipt = receipts.open_invoice(member, plan=plan)
    assert (receipt.purpose, receipt.amount, receipt.plan_id) == ("plan", 200_000, plan.id)


@pytest.mark.parametrize("kwargs,error", [
    (dict(), ValidationFailed), (dict(amount=1_000, plan="PLAN"), ValidationFailed), (dict(amount=0), InvalidAmount),
    (dict(amount=1_000_000_001), InvalidAmount), (dict(amount=20_000_000), NoCardAvailable),
])
def test_open_invoice_refusals_write_nothing(db, shop, kwargs, error):
    tenant, _, member, plan = shop
    kwargs = {k: plan if v == "PLAN" else v for k, v in kwargs.items()}
    before = snapshot(db, tenant.id)
    with pytest.raises(error):
        receipts.open_invoice(member, **kwargs)
    db.session.rollback()
    assert snapshot(db, tenant.id) == before
    assert db.session.get(PaymentCard, shop[1].id).times_shown == 0


def test_one_open_invoice_per_member(db, shop):
    _, _, member, _ = shop
    first = receipts.open_invoice(member, amount=10_000)
    with pytest.raises(OpenReceiptExists) as caught:
        receipts.open_invoice(member, amount=20_000)
    assert caught.value.receipt.id == first.id and first.tracking_code in str(caught.value)


def test_a_stale_open_invoice_is_expired_when_a_new_one_is_opened(db, shop):
    _, _, member, _ = shop
    old = receipts.open_invoice(member, amount=10_000)
    old.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    new = receipts.open_invoice(member, amount=20_000)
    assert (old.status, new.status) == ("expired", "awaiting_receipt")


def test_plan_and_bot_of_another_tenant_are_not_found(db, make, shop):
    _, _, member, _ = shop
    other = make.tenant()
    with pytest.raises(NotFound):
        receipts.open_invoice(member, plan=make.plan(other))
    with pytest.raises(NotFound):
        receipts.open_invoice(member, amount=1_000, bot=make.bot(other))


def test_archived_plan_and_banned_member_are_refused(db, make, shop):
    tenant, _, member, plan = shop
    plan.is_archived = True
    with pytest.raises(ValidationFailed, match="no longer on sale"):
        receipts.open_invoice(member, plan=plan)
    banned = make.member(tenant, is_banned=True)
    with pytest.raises(NotAllowed):
        receipts.open_invoice(banned, amount=1_000)


def test_submit_moves_to_pending_review(db, shop):
    _, _, member, _ = shop
    receipt = receipts.open_invoice(member, amount=10_000)
    receipts.submit(receipt, telegram_file_id="AgAD", text="  ref 1 ")
    assert (receipt.status, receipt.telegram_file_id, receipt.text) == ("pending_review", "AgAD", "ref 1")
    assert receipt.submitted_at is not None
    with pytest.raises(InvalidTransition):
        receipts.submit(receipt, text="again")


def test_submit_refusals(db, shop):
    _, _, member, _ = shop
    receipt = receipts.open_invoice(member, amount=10_000)
    with pytest.raises(ValidationFailed):
        receipts.submit(receipt, text="   ")
    with pytest.raises(ValidationFailed):
        receipts.submit(receipt, text="x" * 2001)
    receipt.expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(InvalidTransition, match="expired"):
        receipts.submit(receipt, text="late")


def test_approve_topup_credits_counts_and_audits(db, make, shop):
    tenant, card, member, _ = shop
    approver = make.staff(tenant, Role.APPROVER)
    receipt = pending(member, amount=250_000)
    receipts.approve(receipt, Reviewer(account=approver))
    db.session.commit()
    db.session.expire_all()
    member, card = db.session.get(Member, member.id), db.session.get(PaymentCard, card.id)
    assert (receipt.status, receipt.reviewed_by_account_id, receipt.reviewed_by_telegram_id) == (
        "approved", approver.id, None)
    assert member.balance == 250_000 and (member.total_xp, member.xp_today) == (25, 25)
    assert (card.approved_count, card.received_today, card.received_day) == (1, 250_000, local_today(tenant))
    log = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "receipt.approve"))
    assert (log.actor, log.target, log.data["amount"]) == (f"account:{approver.id}", f"receipt:{receipt.id}", 250_000)
    assert receipts.purchase_of(receipt) is None
    assert_books_balance(db)


def test_approve_a_plan_receipt_sells_the_plan(db, shop):
    tenant, _, member, plan = shop
    wallet.set_wholesale_prices(1_000, 10)
    receipt = pending(member, plan=plan)
    receipts.approve(receipt, ADMIN)
    db.session.commit()
    db.session.expire_all()
    subscription = receipts.purchase_of(receipt)
    assert (subscription.plan_id, subscription.source, subscription.traffic_limit_bytes) == (plan.id, "receipt", 10 * 1024**3)
    member, tenant = db.session.get(Member, member.id), db.session.get(Tenant, tenant.id)
    assert member.balance == 0 and not member.is_newcomer
    assert tenant.wallet_balance == 1_000_000 - (10 * 1_000 + 20_000)
    assert tenant.traffic_sold_bytes == 10 * 1024**3
    assert_books_balance(db)


def test_approve_a_different_amount_is_credited_and_audited(db, shop):
    _, card, member, plan = shop
    receipt = pending(member, plan=plan)
    receipts.approve(receipt, ADMIN, amount=150_000)  # less than the plan: the money stays on the balance
    db.session.commit()
    assert (receipt.amount, db.session.get(Member, member.id).balance) == (150_000, 150_000)
    assert receipts.purchase_of(receipt) is None
    log = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "receipt.approve"))
    assert log.data == {"amount": 150_000, "requested_amount": 200_000, "different_amount": True,
                        "purchase": {"skipped": "balance"}}
    assert db.session.get(PaymentCard, card.id).received_today == 150_000


def test_a_plan_the_wallet_cannot_cover_leaves_the_money_on_the_balance_and_alerts(db, make):
    tenant = make.tenant()
    make.card(tenant)
    member, plan = make.member(tenant), make.plan(tenant, price=100_000, traffic_gb=5)
    wallet.set_wholesale_prices(10_000, 0)
    receipt = pending(member, plan=plan)
    receipts.approve(receipt, ADMIN)
    db.session.commit()
    assert receipt.status == "approved" and db.session.get(Member, member.id).balance == 100_000
    assert count(db, Subscription) == 0 and count(db, TenantNotice, kind="wallet_insufficient") == 1
    assert count(db, AuditLog, action="wallet.sale_refused") == 1


@pytest.mark.parametrize("first", ["approve", "reject"])
@pytest.mark.parametrize("second", ["approve", "reject"])
def test_a_decided_receipt_cannot_be_decided_again(db, shop, first, second):
    tenant, _, member, plan = shop
    receipt = pending(member, plan=plan)
    decide = {"approve": lambda: receipts.approve(receipt, ADMIN),
              "reject": lambda: receipts.reject(receipt, ADMIN, "no money arrived")}
    decide[first]()
    db.session.commit()
    before = snapshot(db, tenant.id)
    with pytest.raises(InvalidTransition, match="already"):
        decide[second]()
    db.session.rollback()
    assert snapshot(db, tenant.id) == before


def test_reject_records_the_reason_and_the_card(db, shop):
    _, card, member, _ = shop
    receipt = pending(member, amount=10_000)
    with pytest.raises(ValidationFailed):
        receipts.reject(receipt, ADMIN, "   ")
    receipts.reject(receipt, ADMIN, "Amount does not match")
    db.session.commit()
    assert (receipt.status, receipt.reject_reason, receipt.reviewed_by_telegram_id) == (
        "rejected", "Amount does not match", 555)
    assert db.session.get(PaymentCard, card.id).rejected_count == 1
    assert db.session.get(Member, member.id).balance == 0


def test_an_awaiting_receipt_cannot_be_decided(db, shop):
    _, _, member, _ = shop
    receipt = receipts.open_invoice(member, amount=10_000)
    with pytest.raises(InvalidTransition):
        receipts.approve(receipt, ADMIN)
    with pytest.raises(InvalidTransition):
        receipts.reject(receipt, ADMIN, "why")


@pytest.mark.parametrize("who", ["viewer", "stranger", "nobody"])
def test_only_owner_approver_or_telegram_admin_decides(db, make, shop, who):
    tenant, _, member, _ = shop
    receipt = pending(member, amount=10_000)
    db.session.commit()
    by = {"viewer": lambda: Reviewer(account=make.staff(tenant, Role.VIEWER)),
          "stranger": lambda: Reviewer(account=make.staff(make.tenant(), Role.OWNER)),
          "nobody": lambda: Reviewer()}[who]()
    before = snapshot(db, tenant.id)
    with pytest.raises(NotAllowed):
        receipts.approve(receipt, by)
    db.session.rollback()
    assert snapshot(db, tenant.id) == before


def test_owner_and_platform_admin_may_decide(db, make, shop):
    tenant, _, member, _ = shop
    owner = db.session.scalar(sa.select(Membership.account_id).where(Membership.tenant_id == tenant.id))
    receipts.approve(pending(member, amount=1_000), Reviewer(account=db.session.get(Account, owner)))
    admin = make.account(platform_admin=True)
    receipts.approve(pending(member, amount=2_000), Reviewer(account=admin))
    assert db.session.get(Member, member.id).balance == 3_000


def test_cancel_by_the_member_only(db, make, shop):
    tenant, _, member, _ = shop
    receipt = receipts.open_invoice(member, amount=10_000)
    with pytest.raises(NotFound):
        receipts.cancel(receipt, make.member(tenant))
    receipts.cancel(receipt, member)
    assert receipt.status == "cancelled" and receipts.open_receipt_of(member) is None
    with pytest.raises(InvalidTransition):
        receipts.cancel(receipt, member)
    second = pending(member, amount=10_000)
    assert receipts.cancel(second, member).status == "cancelled"


def test_expire_stale(db, make, shop):
    tenant, card, member, _ = shop
    other = make.member(tenant)
    awaiting = receipts.open_invoice(member, amount=10_000)
    waiting = pending(other, amount=10_000)
    db.session.commit()
    assert receipts.expire_stale(tenant) == []
    later = utcnow() + timedelta(hours=25)
    expired = receipts.expire_stale(tenant, now=later)
    assert {r.id for r in expired} == {awaiting.id, waiting.id}
    assert {r.status for r in expired} == {"expired"}
    assert receipts.expire_stale(tenant, now=later) == []
    with pytest.raises(InvalidTransition):
        receipts.approve(waiting, ADMIN)


def test_expire_stale_leaves_other_tenants_alone(db, make, shop):
    tenant, _, member, _ = shop
    receipts.open_invoice(member, amount=10_000)
    assert receipts.expire_stale(make.tenant(), now=utcnow() + timedelta(days=3)) == []


def test_lookups_are_tenant_scoped(db, make, shop):
    tenant, _, member, _ = shop
    receipt = receipts.open_invoice(member, amount=10_000)
    assert receipts.get_receipt(tenant, receipt.id).id == receipt.id
    assert receipts.find_by_tracking_code(tenant, receipt.tracking_code.lower()).id == receipt.id
    with pytest.raises(NotFound):
        receipts.get_receipt(make.tenant(), receipt.id)
    assert receipts.find_by_tracking_code(make.tenant(), receipt.tracking_code) is None


def test_tracking_code_collision_is_retried(db, shop, monkeypatch):
    _, _, member, _ = shop
    first = receipts.open_invoice(member, amount=10_000)
    receipts.cancel(first, member)
    codes = iter([first.tracking_code, first.tracking_code, "C2C-ZZZZZZ"])
    monkeypatch.setattr(receipts, "tracking_code", lambda: next(codes))
    assert receipts.open_invoice(member, amount=10_000).tracking_code == "C2C-ZZZZZZ"


def test_domain_errors_have_codes():
    assert issubclass(InvalidTransition, DomainError) and InvalidTransition.code == "invalid_transition"
    assert Receipt.__tablename__ == "receipts"


def test_a_member_is_only_ever_shown_cards_of_their_own_tenant(db, make):
    a, b = make.tenant(), make.tenant()
    own = make.card(a)
    make.card(b)
    member = make.member(a)
    for _ in range(4):
        receipt = receipts.open_invoice(member, amount=10_000)
        assert receipt.card_id == own.id and receipt.tenant_id == a.id
        receipts.cancel(receipt, member)


def test_todays_total_follows_the_tenants_local_day(db, make):
    from datetime import datetime, timezone

    from app.services import clock
    tenant = make.tenant(timezone="Asia/Tehran")
    card = make.card(tenant, received_today=70_000)
    member = make.member(tenant)
    just_after_tehran_midnight = datetime(2026, 3, 1, 20, 31, tzinfo=UTC)  # 00:01 on 2 March there
    with clock.frozen(just_after_tehran_midnight):
        card.received_day = datetime(2026, 3, 1).date()
        receipts.approve(pending(member, amount=30_000), ADMIN)
    assert (card.received_day.isoformat(), card.received_today) == ("2026-03-02", 30_000)
