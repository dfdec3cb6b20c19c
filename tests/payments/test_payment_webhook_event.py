"""A verified Zarinpal payment is announced to the tenant's webhook endpoints as payment.succeeded."""
from __future__ import annotations

import json

from app.services import webhooks
from app.services.payments import online
from tests.api.receiver import Receiver


def test_a_paid_topup_emits_payment_succeeded(db, client, gateway, zarinpal_shop, drain_outbox):
    tenant, bot, member, _ = zarinpal_shop
    receiver = Receiver()
    try:
        webhooks.create_endpoint(tenant, receiver.url, events=["payment.succeeded"])
        payment = online.start_member_payment(member, bot, amount=50_000)
        db.session.commit()
        client.get(gateway.press(payment.authority, "pay"))
        drain_outbox()
        events = [json.loads(r["body"]) for r in receiver.requests]
    finally:
        receiver.close()
    assert [e["type"] for e in events] == ["payment.succeeded"]
    assert events[0]["data"] | {"ref_id": None} == {
        "payment_id": payment.id, "gateway": "zarinpal", "order_code": payment.order_code, "ref_id": None,
        "amount": 50_000, "purpose": "topup", "plan_id": None, "plan_sold": False,
        "telegram_id": member.telegram_id}
