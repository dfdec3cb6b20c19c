"""app.services.receipt_announcements: a decision is told through outbox rows written in its transaction,
carrying what only the decision knows (status, balance right after it, rewards), once per key."""
import sqlalchemy as sa

from app.models import OutboxMessage
from app.services import receipt_announcements, receipts, wallet
from app.services.receipts import Reviewer

ADMIN = Reviewer(telegram_id=555)


def _rows(db) -> dict[str, OutboxMessage]:
    return {row.kind: row for row in db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))}


def _pending(db, make, amount=50_000):
    tenant = make.tenant(wallet_credit_limit=0)
    wallet.topup_wallet(tenant, 1_000_000, key="seed", actor="system")
    make.card(tenant, daily_cap=10_000_000)
    member = make.member(tenant)
    db.session.commit()
    receipt = receipts.open_invoice(member, amount=amount)
    receipts.submit(receipt, text="paid, ref 1234")
    return receipt


def test_an_approval_writes_the_refresh_and_the_members_message_with_its_balance(db, make):
    receipt = _pending(db, make)
    receipts.approve(receipt, ADMIN)
    receipt_announcements.announce_decision(receipt)
    receipt_announcements.announce_decision(receipt)  # a retried request: the member's message stays one row

    rows = db.session.scalars(sa.select(OutboxMessage)).all()
    decisions = [row for row in rows if row.kind == receipt_announcements.DECISION]
    assert len(decisions) == 1 and {row.kind for row in rows} == {"receipt.admin_refresh", "receipt.decision"}
    decision = decisions[0]
    assert decision.key == f"receipt:{receipt.id}:decision:approved"
    assert decision.payload["status"] == "approved" and decision.payload["balance"] == receipt.member.balance == 50_000
    assert decision.tenant_id == receipt.tenant_id


def test_a_rejection_is_its_own_message_and_a_rollback_tells_nobody(db, make):
    receipt = _pending(db, make)
    db.session.commit()
    receipts.reject(receipt, ADMIN, "blurry")
    receipt_announcements.announce_decision(receipt)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0

    receipts.reject(receipt, ADMIN, "blurry")
    receipt_announcements.announce_decision(receipt)
    decision = _rows(db)["receipt.decision"]
    assert decision.key.endswith(":decision:rejected") and decision.payload["status"] == "rejected"
