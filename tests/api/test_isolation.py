"""Tenant isolation for every API operation: another tenant's ids → 404 and nothing of theirs changes;
lists never show another tenant's rows."""
from __future__ import annotations

import pytest

from app.models import Bot, Plan, Promocode, Receipt, Subscription, Ticket, WebhookEndpoint
from tests.api.conftest import ApiClient
from tests.api.operations import OPERATIONS, build_tenant_world, snapshot

FOREIGN = [op for op in OPERATIONS if op.foreign]


def test_every_api_operation_is_listed(app):
    routed = {(rule.endpoint, method) for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed == {(op.endpoint, op.method) for op in OPERATIONS}


@pytest.fixture
def two_tenants(app, db, make, token_for):
    mine, theirs = make.tenant(), make.tenant()
    own_ids = build_tenant_world(db, make, mine, telegram_id=1000)
    their_ids = build_tenant_world(db, make, theirs, telegram_id=2000)
    return ApiClient(app.test_client(), token_for(mine)), own_ids, their_ids, theirs


@pytest.mark.parametrize("operation", FOREIGN, ids=[op.endpoint for op in FOREIGN])
def test_another_tenants_ids_are_404_and_change_nothing(db, two_tenants, operation):
    client, own_ids, their_ids, theirs = two_tenants
    before = snapshot(db, theirs.id)
    response = operation.request(client, their_ids)
    assert response.status_code == 404, (response.status_code, response.get_json())
    assert response.mimetype == "application/problem+json"
    db.session.expire_all()
    assert snapshot(db, theirs.id) == before


MIXED = [op for op in OPERATIONS if op.foreign and op.body and any("{" in str(v) for v in op.body.values())]


@pytest.mark.parametrize("operation", MIXED, ids=[op.endpoint for op in MIXED])
def test_another_tenants_id_in_the_body_or_query_is_404(db, two_tenants, operation):
    """Own member, their bot or plan."""
    client, own_ids, their_ids, theirs = two_tenants
    mixed = {**own_ids, "bot_id": their_ids["bot_id"], "plan_id": their_ids["plan_id"]}
    before = snapshot(db, theirs.id)
    assert operation.request(client, mixed).status_code == 404
    db.session.expire_all()
    assert snapshot(db, theirs.id) == before


LISTS = {"/bots": Bot, "/plans": Plan, "/promocodes": Promocode, "/receipts": Receipt,
         "/subscriptions": Subscription, "/webhook-endpoints": WebhookEndpoint, "/tickets": Ticket}


@pytest.mark.parametrize("path", sorted(LISTS))
def test_lists_show_only_the_callers_rows(db, two_tenants, path):
    client, own_ids, their_ids, theirs = two_tenants
    items = client.get(f"/api/v1{path}").get_json()["items"]
    owners = {db.session.get(LISTS[path], item["id"]).tenant_id for item in items}
    assert items and theirs.id not in owners and len(owners) == 1


@pytest.mark.parametrize("path", ["/members", "/leaderboard"])
def test_member_lists_show_only_the_callers_members(db, two_tenants, path):
    client, *_ = two_tenants
    telegram_ids = {item["telegram_id"] for item in client.get(f"/api/v1{path}").get_json()["items"]}
    assert telegram_ids and telegram_ids <= {1000, 1001}


def test_query_filter_with_their_telegram_id_is_empty(db, two_tenants):
    client, _, their_ids, _ = two_tenants
    assert client.get("/api/v1/subscriptions?telegram_id=2000").get_json()["items"] == []
    assert client.get("/api/v1/members?q=2000").get_json()["items"] == []
