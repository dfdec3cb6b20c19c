"""Issue 14 item 1: approving a referee's first receipt and the referrer's own receipt at the same moment
deadlocked (receipt → member → card, then the referrer's row); approve now locks every member row up front
in one order, writes the member row once, and a conflict answers "try again" instead of a 500."""
import threading

import psycopg2.errors
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from app.database import retrying
from app.models import LedgerEntry, Member, Receipt, Role, Tenant
from app.services import receipts, referrals
from app.services.errors import TryAgain
from app.services.receipts import Reviewer
from tests.services.money_helpers import assert_books_balance

BONUS = 5_000


class StatementLog:
    """Every statement sent to the database while it is active (an SQLAlchemy event listener)."""

    def __init__(self, engine):
        self.engine, self.statements = engine, []

    def _seen(self, conn, cursor, statement, params, context, executemany):
        self.statements.append(" ".join(statement.split())[:120])

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def member_updates(self) -> int:
        """UPDATEs of member rows, not counting SQLite's lock emulation (UPDATE ... SET id=id)."""
        return sum(s.startswith("UPDATE members") and not s.startswith("UPDATE members SET id=")
                   for s in self.statements)


def referral_shop(make, db, pairs: int):
    """A tenant paying a referral bonus, and `pairs` (referrer, referee) with a pending top-up receipt each."""
    tenant = make.tenant()
    tenant.settings = {"referral_bonus_toman": BONUS}
    make.card(tenant, daily_cap=None)
    bot = make.bot(tenant)
    ids = []
    for _ in range(pairs):
        referrer, referee = make.member(tenant), make.member(tenant)
        referrals.set_referrer(referee, referrer.referral_code)
        ids.append(tuple(receipts.submit(receipts.open_invoice(m, amount=100_000, bot=bot), text="ref 1").id
                         for m in (referee, referrer)))
    db.session.commit()
    return tenant, ids


def pending_receipt(db, make, tenant=None):
    tenant = tenant or make.tenant()
    make.card(tenant, daily_cap=None)
    member = make.member(tenant)
    receipt = receipts.submit(receipts.open_invoice(member, amount=120_000), text="ref 1")
    db.session.commit()
    return tenant, receipt


def test_a_topup_approval_is_at_most_six_statements_and_one_member_update(db, make, backend):
    tenant, receipt = pending_receipt(db, make)
    approver = make.staff(tenant, Role.APPROVER)
    # As in a request: the signed-in account, the tenant and the receipt on the page are loaded.
    db.session.get(Tenant, tenant.id), approver.email, receipt.status
    with StatementLog(db.engine) as log:
        receipts.approve(receipt, Reviewer(account=approver))
    # The approval's rows are written (app/services/rowwrites.py) and left clean: nothing for the commit to flush.
    assert not db.session.new and not db.session.dirty
    with StatementLog(db.engine) as at_commit:
        db.session.commit()
    assert at_commit.statements == [], at_commit.statements
    # The receipt is locked by the UPDATE that approves it (its role check inside). SQLite has no row locks:
    # locking.py emulates the members' lock with one more UPDATE.
    # The approval's events (balance.changed, receipt.approved) read no webhook endpoint: this process read the
    # tenant's (none) at the receipt's submit, and the tenant row's webhooks_version says they have not changed.
    budget = 6 if backend == "postgres" else 7
    assert not any("webhook_endpoints" in s for s in log.statements), "\n".join(log.statements)
    assert len(log.statements) <= budget, "\n".join(log.statements)
    assert log.member_updates() == 1, "\n".join(log.statements)
    assert_books_balance(db)


def test_a_referral_approval_writes_each_member_row_once(db, make, backend):
    tenant, [(referee_receipt, _)] = referral_shop(make, db, 1)
    with StatementLog(db.engine) as log:
        approved = receipts.approve(db.session.get(Receipt, referee_receipt), Reviewer(telegram_id=42))
    db.session.commit()
    assert log.member_updates() == 2, "\n".join(log.statements)  # the referee and the referrer, once each
    budget = 13 if backend == "postgres" else 15  # 8 of a top-up, + the referrer's update, badges, events
    assert len(log.statements) <= budget, "\n".join(log.statements)
    assert approved.rewards.referral.toman == BONUS
    assert_books_balance(db)


def approve_pairs_concurrently(app, pairs) -> list:
    """For each pair, two threads approve the referee's and the referrer's receipt at the same moment."""
    errors = []

    def approve(receipt_id, barrier):
        with app.app_context():
            from app.extensions import db
            barrier.wait()
            try:
                retrying(lambda: receipts.approve(db.session.get(Receipt, receipt_id), Reviewer(telegram_id=7)))
                db.session.commit()
            except BaseException as err:  # noqa: BLE001 - collected for the assertion
                db.session.rollback()
                errors.append(err)
            finally:
                db.session.remove()

    for pair in pairs:
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=approve, args=(receipt_id, barrier)) for receipt_id in pair]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return errors


@pytest.mark.postgres
@pytest.mark.timeout(180)
def test_referee_and_referrer_approved_at_once_never_deadlock(app, db, make, caplog):
    tenant, pairs = referral_shop(make, db, 40)
    errors = approve_pairs_concurrently(app, pairs)
    assert errors == []
    assert "conflict with a concurrent transaction" not in caplog.text  # not even a retried deadlock
    db.session.expire_all()
    statuses = set(db.session.scalars(sa.select(Receipt.status).where(Receipt.tenant_id == tenant.id)))
    assert statuses == {"approved"}
    bonuses = db.session.scalar(sa.select(sa.func.count(LedgerEntry.id)).where(LedgerEntry.kind == "referral_bonus"))
    assert bonuses == 40
    assert_books_balance(db)


def test_retrying_runs_the_unit_again_after_a_deadlock_and_then_says_try_again(db, make):
    tenant = make.tenant()
    calls = []

    def deadlocks_once():
        calls.append(1)
        if len(calls) == 1:
            raise sa.exc.OperationalError("UPDATE members ...", {}, psycopg2.errors.DeadlockDetected("deadlock"))
        return "done"

    assert retrying(deadlocks_once) == "done" and len(calls) == 2

    def always_conflicts():
        calls.append(1)
        raise TryAgain("moved")
    with pytest.raises(TryAgain):
        retrying(always_conflicts)
    assert len(calls) == 2 + 3


def test_a_real_error_is_not_retried(db):
    calls = []

    def broken():
        calls.append(1)
        raise sa.exc.IntegrityError("INSERT ...", {}, Exception("unique"))
    with pytest.raises(sa.exc.IntegrityError):
        retrying(broken)
    assert len(calls) == 1


def test_the_dashboard_answers_try_again_instead_of_a_500(owner_client, db, make, monkeypatch):
    from tests.test_dashboard_forms import post

    client, tenant, _ = owner_client
    _, receipt = pending_receipt(db, make, tenant)
    real_lock = receipts.lock_member_and_referrer
    attempts = []

    def conflicting(*args):
        attempts.append(1)
        real_lock(*args)
        raise sa.exc.OperationalError("SELECT ... FOR NO KEY UPDATE", {}, psycopg2.errors.DeadlockDetected("deadlock"))
    monkeypatch.setattr(receipts, "lock_member_and_referrer", conflicting)
    response = post(client, f"/receipts/{receipt.id}/approve", amount="120000")
    assert response.status_code == 400 and "Please try again" in response.get_data(as_text=True)
    assert len(attempts) == 3
    db.session.expire_all()
    assert db.session.get(Receipt, receipt.id).status == "pending_review"
    assert db.session.scalar(sa.select(sa.func.count(LedgerEntry.id))) == 0
