"""The owner's integrations page: a token is shown once and works, revoke stops it; webhook endpoints and the
delivery log with resend."""
from __future__ import annotations

import re

import sqlalchemy as sa

from app.models import ApiToken, WebhookDelivery, WebhookEndpoint
from tests.helpers import csrf_token


def test_owner_creates_uses_and_revokes_a_token(app, db, client, auth, make):
    owner = make.account()
    tenant = make.tenant(owner=owner)
    auth.login(owner.email)
    auth.use_language("en")
    token = csrf_token(client.get("/integrations/"))
    page = client.post("/integrations/tokens", data={"csrf_token": token, "name": "AI bot",
                                                    "scopes": ["read", "money"]}).get_data(as_text=True)
    plaintext = re.search(r"(bf_[A-Za-z0-9_-]{20,})", page).group(1)
    stored = db.session.scalar(sa.select(ApiToken))
    assert stored.scopes == ["money", "read"] and stored.tenant_id == tenant.id and plaintext not in repr(
        stored.__dict__)
    api = app.test_client()
    assert api.get("/api/v1/plans", headers={"Authorization": f"Bearer {plaintext}"}).status_code == 200
    assert plaintext not in client.get("/integrations/").get_data(as_text=True)  # shown once
    client.post(f"/integrations/tokens/{stored.id}/revoke", data={"csrf_token": token})
    assert api.get("/api/v1/plans", headers={"Authorization": f"Bearer {plaintext}"}).status_code == 401


def test_owner_adds_an_endpoint_sees_deliveries_and_resends(app, db, client, auth, make):
    owner = make.account()
    tenant = make.tenant(owner=owner)
    auth.login(owner.email)
    auth.use_language("en")
    token = csrf_token(client.get("/integrations/"))
    page = client.post("/integrations/webhooks", data={"csrf_token": token, "url": "http://127.0.0.1:9/hook",
                                                      "events": ["member.created"]}).get_data(as_text=True)
    assert "whsec_" in page
    endpoint = db.session.scalar(sa.select(WebhookEndpoint))
    make.member(tenant, telegram_id=77)
    delivery = db.session.scalar(sa.select(WebhookDelivery))
    delivery.status = "failed"
    db.session.commit()
    assert "member.created" in client.get(f"/integrations/webhooks/{endpoint.id}").get_data(as_text=True)
    client.post(f"/integrations/deliveries/{delivery.id}/resend", data={"csrf_token": token})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 2
    client.post(f"/integrations/webhooks/{endpoint.id}/delete", data={"csrf_token": token})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint)) == 0
