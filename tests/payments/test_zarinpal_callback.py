"""Zarinpal end to end against the sandbox gateway: request, StartPay, the callback, verify, the ledger."""
from __future__ import annotations

import sqlalchemy as sa

from app.models import AuditLog, LedgerEntry, OnlinePayment, Subscription
from app.services.payments import online
from app.services.payments.online import GatewayRefused
from tests.payments.gateway import MERCHANT

CALLBACK = "/pay/zarinpal/callback"


def start(db, member, bot, **what) -> OnlinePayment:
    payment = online.start_member_payment(member, bot, **what)
    db.session.commit()
    return payment


def credits_of(db, payment) -> list[LedgerEntry]:
    return list(db.session.scalars(sa.select(LedgerEntry).where(
        LedgerEntry.ref_type == "online_payment", LedgerEntry.ref_id == payment.id)))


def test_a_paid_topup_is_verified_and_credited_once(db, client, gateway, zarinpal_shop):
    tenant, bot, member, _ = zarinpal_shop
    payment = start(db, member, bot, amount=50_000)
    assert payment.status == "pending" and len(payment.authority) == 36
    sent = gateway.payments()[0]
    assert sent["amount_rial"] == 500_000 and sent["metadata"]["order_id"] == payment.order_code
    assert sent["callback_url"] == "http://botfleet.test/pay/zarinpal/callback"

    back = gateway.press(payment.authority, "pay")
    page = client.get(back)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-status="paid"' in html and "پرداخت با موفقیت انجام شد" in html
    assert f"https://t.me/{bot.username}" in html
    db.session.expire_all()
    assert member.balance == 50_000
    assert payment.ref_id and payment.ref_id in html and payment.verified_by == "callback"

    again = client.get(back)  # the browser reloads the page: nothing more happens
    assert 'data-status="paid"' in again.get_data(as_text=True)
    db.session.expire_all()
    assert member.balance == 50_000 and len(credits_of(db, payment)) == 1


def test_a_plan_payment_credits_then_sells_the_plan(db, client, gateway, zarinpal_shop):
    tenant, bot, member, plan = zarinpal_shop
    payment = start(db, member, bot, plan=plan)
    assert payment.amount == 150_000 and payment.purpose == "plan"
    client.get(gateway.press(payment.authority))
    db.session.expire_all()
    subscription = db.session.scalar(sa.select(Subscription).where(Subscription.member_id == member.id))
    assert subscription is not None and subscription.plan_id == plan.id
    assert member.balance == 0  # credited 150,000, then spent on the plan
    kinds = sorted(e.kind for e in db.session.scalars(sa.select(LedgerEntry).where(
        LedgerEntry.member_id == member.id, LedgerEntry.kind != "adjustment")))
    assert kinds == ["purchase", "topup"]


def test_cancel_on_the_gateway_fails_the_payment_and_credits_nothing(db, client, gateway, zarinpal_shop):
    tenant, bot, member, _ = zarinpal_shop
    payment = start(db, member, bot, amount=20_000)
    page = client.get(gateway.press(payment.authority, "cancel"))
    assert 'data-status="failed"' in page.get_data(as_text=True)
    db.session.expire_all()
    assert payment.status == "failed" and member.balance == 0 and credits_of(db, payment) == []


def test_amount_tampering_in_the_callback_changes_nothing(db, client, gateway, zarinpal_shop):
    """The callback's extra parameters are ignored: verify is asked with the amount in our database."""
    tenant, bot, member, _ = zarinpal_shop
    payment = start(db, member, bot, amount=90_000)
    back = gateway.press(payment.authority)
    client.get(back + "&Amount=10000&amount=1000&Status=OK")
    db.session.expire_all()
    assert member.balance == 90_000 and payment.amount == 90_000


def test_a_payment_paid_with_a_different_amount_at_the_gateway_is_refused(db, client, gateway, zarinpal_shop):
    """Someone changed our row's amount after the request: the gateway answers -50 and nothing is credited."""
    tenant, bot, member, _ = zarinpal_shop
    payment = start(db, member, bot, amount=90_000)
    back = gateway.press(payment.authority)
    payment.amount = 900_000
    db.session.commit()
    page = client.get(back)
    db.session.expire_all()
    assert 'data-status="failed"' in page.get_data(as_text=True)
    assert payment.status == "failed" and payment.failure_code == -50 and member.balance == 0


def test_a_verify_answering_101_credits_once_when_we_had_not_credited(db, client, gateway, zarinpal_shop):
    """Our first verify got 100 but its answer was lost: the next one answers 101 and we credit then, once."""
    tenant, bot, member, _ = zarinpal_shop
    payment = start(db, member, bot, amount=30_000)
    back = gateway.press(payment.authority)
    assert gateway.verify(payment.authority, 300_000)["data"]["code"] == 100  # the lost answer
    client.get(back)
    client.get(back)
    db.session.expire_all()
    assert payment.status == "paid" and member.balance == 30_000 and len(credits_of(db, payment)) == 1
    assert db.session.scalar(sa.select(AuditLog.data).where(AuditLog.action == "online_payment.paid"))["code"] == 101


def test_a_gateway_outage_leaves_the_payment_pending_and_the_page_says_so(db, client, gateway, zarinpal_shop):
    tenant, bot, member, _ = zarinpal_shop
    payment = start(db, member, bot, amount=30_000)
    back = gateway.press(payment.authority)
    gateway.fault("verify", 503)
    page = client.get(back)
    db.session.expire_all()
    assert 'data-status="pending"' in page.get_data(as_text=True)
    assert payment.status == "pending" and member.balance == 0
    client.get(back)  # the payer reloads once the gateway is back
    db.session.expire_all()
    assert payment.status == "paid" and member.balance == 30_000


def test_an_unknown_authority_is_a_404_page(db, client, gateway):
    page = client.get(f"{CALLBACK}?Authority=A{'0' * 35}&Status=OK")
    assert page.status_code == 404 and 'data-status="unknown"' in page.get_data(as_text=True)
    assert client.get(CALLBACK).status_code == 404
    assert client.get(f"{CALLBACK}?Authority={'x' * 5000}&Status=OK").status_code == 404


def test_the_gateway_refusing_the_request_creates_nothing(db, gateway, zarinpal_shop):
    tenant, bot, member, _ = zarinpal_shop
    gateway.fault("request", -11)
    try:
        online.start_member_payment(member, bot, amount=20_000)
        raise AssertionError("expected GatewayRefused")
    except GatewayRefused as exc:
        assert exc.params["gateway_code"] == -11
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OnlinePayment)) == 0


def test_the_merchant_id_is_encrypted_and_validated(db, make, zarinpal_shop):
    tenant = zarinpal_shop[0]
    assert MERCHANT.encode() not in bytes(tenant.zarinpal_merchant_encrypted)
    assert online.merchant_id_of(tenant) == MERCHANT and online.merchant_hint(tenant) == MERCHANT[-4:]
    try:
        online.set_merchant_id(tenant, "not-a-merchant", actor="test")
        raise AssertionError("expected a refusal")
    except online.ValidationFailed:
        pass
    assert online.merchant_id_of(tenant) == MERCHANT


def test_zarinpal_is_offered_only_with_a_merchant_id_and_the_feature_on(db, make, zarinpal_shop):
    from app.services import settings

    tenant, bot, member, _ = zarinpal_shop
    assert online.available_for(bot)
    settings.update(bot, {"zarinpal": False}, by="system")   # bumps config_version: cached flags are re-read
    assert not online.available_for(bot)
    other = make.tenant()
    assert not online.available_for(make.bot(other))


def test_the_callback_is_rate_limited_per_address(app, db, client, gateway):
    from app.api.limits import limiter

    saved = app.config["ZARINPAL_CALLBACK_RATE_LIMIT"]
    app.config["ZARINPAL_CALLBACK_RATE_LIMIT"] = "3 per minute"
    limiter.reset()
    try:
        codes = [client.get(f"{CALLBACK}?Authority=A{i:035d}&Status=OK").status_code for i in range(5)]
    finally:
        app.config["ZARINPAL_CALLBACK_RATE_LIMIT"] = saved
        limiter.reset()
    assert codes == [404, 404, 404, 429, 429]
