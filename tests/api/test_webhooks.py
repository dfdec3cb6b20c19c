"""Event webhooks: emitted in the transaction that causes them, delivered signed through the outbox, retried,
given up after 3 days, endpoints disabled after repeated failure with an owner notice."""
from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.models import TenantNotice, WebhookDelivery, WebhookEndpoint
from app.services import clock, webhook_delivery
from tests.api.conftest import new_key
from tests.api.receiver import Receiver

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def docs_verify():
    """The signature check exactly as docs/api.md shows it (its first ```python block after the marker)."""
    text = DOCS.read_text()
    block = re.search(r"<!-- signature-example -->\s*```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(compile(block, "docs/api.md", "exec"), namespace)
    return namespace["verify"]


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def _endpoint(api, url, events=None):
    response = api.post("/api/v1/webhook-endpoints", json={"url": url, "events": events or []})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_events_are_signed_and_the_docs_example_verifies_them(api, db, drain_outbox, receiver, make, tenant):
    created = _endpoint(api, receiver.url)
    make.member(tenant, telegram_id=300, balance=0)  # a service call outside the API emits too
    api.post("/api/v1/members/300/balance/credit", json={"amount": 500, "reason": "gift"}, idempotency_key=new_key())
    drain_outbox()
    types = [json.loads(r["body"])["type"] for r in receiver.requests]
    assert types == ["member.created", "balance.changed"]
    verify = docs_verify()
    for request in receiver.requests:
        assert verify(created["secret"], request["body"], request["headers"]["Botfleet-Signature"])
        assert not verify("whsec_wrong", request["body"], request["headers"]["Botfleet-Signature"])
        assert not verify(created["secret"], request["body"] + b" ", request["headers"]["Botfleet-Signature"])
    event = json.loads(receiver.requests[1]["body"])
    assert set(event) == {"id", "type", "created_at", "tenant", "data"} and event["tenant"] == tenant.slug
    assert event["data"]["telegram_id"] == 300 and event["data"]["balance"] == 500
    deliveries = api.get(f"/api/v1/webhook-endpoints/{created['id']}/deliveries").get_json()["items"]
    assert [d["status"] for d in deliveries] == ["delivered", "delivered"]


def test_endpoint_filters_events_and_a_rolled_back_change_sends_nothing(api, db, drain_outbox, receiver, make, tenant):
    _endpoint(api, receiver.url, events=["balance.changed"])
    make.member(tenant, telegram_id=301)
    api.post("/api/v1/members/301/balance/debit", json={"amount": 5, "reason": "x"}, idempotency_key=new_key())
    drain_outbox()
    assert receiver.requests == [] and db.session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 0


def test_failures_retry_with_backoff_then_fail_and_resend_keeps_the_event(api, db, drain_outbox, receiver, make,
                                                                           tenant):
    created = _endpoint(api, receiver.url)
    receiver.status = 500
    make.member(tenant, telegram_id=302)
    drain_outbox()
    delivery = db.session.scalar(sa.select(WebhookDelivery))
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert drain_outbox() == []  # not due yet: the retry waits 30 s
    assert drain_outbox(ahead=timedelta(seconds=31)) and db.session.get(WebhookDelivery, delivery.id).attempts == 2
    _age(db, delivery.id, days=3)
    drain_outbox(ahead=timedelta(hours=7))
    failed = db.session.get(WebhookDelivery, delivery.id)
    assert failed.status == "failed" and failed.attempts == 3
    receiver.status = 200
    resent = api.post(f"/api/v1/deliveries/{delivery.id}/resend").get_json()
    drain_outbox()
    assert resent["event_id"] == failed.event_id and db.session.get(WebhookDelivery, resent["id"]).status == "delivered"
    assert json.loads(receiver.requests[-1]["body"])["id"] == failed.event_id
    assert db.session.get(WebhookEndpoint, created["id"]).consecutive_failures == 0


def test_repeated_failure_disables_the_endpoint_and_tells_the_owner(api, db, drain_outbox, receiver, make, tenant):
    created = _endpoint(api, receiver.url)
    receiver.status = 503
    for n in range(webhook_delivery.DISABLE_AFTER_FAILURES):
        make.member(tenant, telegram_id=400 + n)
    for delivery_id in db.session.scalars(sa.select(WebhookDelivery.id)).all():
        _age(db, delivery_id, days=4)
    drain_outbox()
    endpoint = db.session.get(WebhookEndpoint, created["id"])
    assert not endpoint.is_active and endpoint.disabled_at is not None
    assert db.session.scalar(sa.select(TenantNotice.kind)) == "webhook_disabled"
    make.member(tenant, telegram_id=499)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == \
        webhook_delivery.DISABLE_AFTER_FAILURES  # a disabled endpoint gets no new events


def test_private_addresses_are_refused_in_production(app, api):
    app.config["WEBHOOK_ALLOW_PRIVATE_URLS"] = False
    try:
        for url in ("http://127.0.0.1:9/x", "http://10.1.2.3/x", "http://localhost/x", "http://[::1]/x"):
            response = api.post("/api/v1/webhook-endpoints", json={"url": url})
            assert response.status_code == 422, url
    finally:
        app.config["WEBHOOK_ALLOW_PRIVATE_URLS"] = True
    assert api.post("/api/v1/webhook-endpoints", json={"url": "ftp://example.com/x"}).status_code == 422


def test_signature_format(app):
    header = webhook_delivery.sign("s3cret", '{"a":1}', 1700000000)
    assert re.fullmatch(r"t=1700000000,v1=[0-9a-f]{64}", header)


def _age(db, delivery_id: int, *, days: int) -> None:
    db.session.execute(sa.update(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                       .values(created_at=clock.now() - timedelta(days=days)))
    db.session.commit()
