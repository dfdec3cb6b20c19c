"""The reconciliation job: payments whose callback never arrived are verified from unVerified.json."""
from __future__ import annotations

from datetime import timedelta

from app import scheduler
from app.services import clock
from app.services.payments import online


def notices(db) -> list[tuple[int, str, dict]]:
    import sqlalchemy as sa

    from app.models import OutboxMessage

    rows = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "telegram.notice")
                              .order_by(OutboxMessage.id))
    return [(r.payload["member_id"], r.payload["text_key"], r.payload["params"]) for r in rows]


def test_a_paid_payment_without_callback_is_credited_by_the_job(app, db, gateway, zarinpal_shop):
    tenant, bot, member, _ = zarinpal_shop
    payment = online.start_member_payment(member, bot, amount=40_000)
    db.session.commit()
    gateway.press(payment.authority)  # paid, but the browser never comes back
    scheduler.run_now(app, "zarinpal_reconcile")
    db.session.expire_all()
    assert payment.status == "paid" and payment.verified_by == "reconcile" and member.balance == 40_000
    sent = notices(db)
    assert [(mid, key) for mid, key, _ in sent] == [(member.id, "notice.online_paid")]
    assert sent[0][2]["ref_id"] == payment.ref_id
    scheduler.run_now(app, "zarinpal_reconcile")  # nothing left to do
    db.session.expire_all()
    assert member.balance == 40_000 and len(notices(db)) == 1


def test_unpaid_payments_wait_then_are_given_up(app, db, gateway, zarinpal_shop, monkeypatch):
    tenant, bot, member, _ = zarinpal_shop
    payment = online.start_member_payment(member, bot, amount=40_000)
    db.session.commit()
    scheduler.run_now(app, "zarinpal_reconcile")
    db.session.expire_all()
    assert payment.status == "pending"
    later = clock.now() + timedelta(hours=3)
    monkeypatch.setattr("app.services.clock.now", lambda: later)
    scheduler.run_now(app, "zarinpal_reconcile")
    db.session.expire_all()
    assert payment.status == "failed" and payment.failure_reason == "not paid in time" and member.balance == 0
    assert [key for _, key, _ in notices(db)] == ["notice.online_failed"]


def test_a_gateway_that_cannot_list_changes_nothing(app, db, gateway, zarinpal_shop):
    tenant, bot, member, _ = zarinpal_shop
    payment = online.start_member_payment(member, bot, amount=40_000)
    db.session.commit()
    gateway.press(payment.authority)
    gateway.fault("unverified", 503)
    scheduler.run_now(app, "zarinpal_reconcile")
    db.session.expire_all()
    assert payment.status == "pending" and member.balance == 0
    scheduler.run_now(app, "zarinpal_reconcile")
    db.session.expire_all()
    assert payment.status == "paid" and member.balance == 40_000
