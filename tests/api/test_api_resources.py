"""Each resource group through HTTP: what it returns and what it changes in the database."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.models import AuditLog, BotSession, LedgerEntry, Member, ReceiptStatus, Subscription, SubscriptionStatus
from app.services import receipts, wallet
from tests.api.conftest import new_key

GB = 1024 ** 3


def _entries(db, member_id):
    return db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.member_id == member_id)).all()


def test_credit_debit_idempotency_and_insufficient_balance(api, db, make, tenant):
    member = make.member(tenant, telegram_id=50, balance=1000)
    url = "/api/v1/members/50/balance"
    key = new_key()
    first = api.post(f"{url}/debit", json={"amount": 300, "reason": "AI request"}, idempotency_key=key)
    assert first.status_code == 201 and first.get_json()["balance_after"] == 700
    again = api.post(f"{url}/debit", json={"amount": 300, "reason": "AI request"}, idempotency_key=key)
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    other = api.post(f"{url}/debit", json={"amount": 301, "reason": "AI request"}, idempotency_key=key)
    assert other.status_code == 409 and other.get_json()["code"] == "idempotency_key_reused"
    too_much = api.post(f"{url}/debit", json={"amount": 701, "reason": "x"}, idempotency_key=new_key())
    assert too_much.status_code == 409 and too_much.get_json()["code"] == "insufficient_balance"
    assert api.post(f"{url}/debit", json={"amount": 5, "reason": "x"}).status_code == 422  # no key
    assert api.post(f"{url}/credit", json={"amount": 50, "reason": "refund"},
                    idempotency_key=new_key()).get_json()["balance_after"] == 750
    db.session.expire_all()
    assert db.session.get(Member, member.id).balance == 750 == 1000 + sum(
        e.amount for e in _entries(db, member.id) if e.kind != "adjustment")
    assert len(_entries(db, member.id)) == 3
    assert api.get(f"{url}").get_json() == {"telegram_id": 50, "balance": 750}
    ledger = api.get("/api/v1/members/50/ledger?limit=2").get_json()
    assert [e["amount"] for e in ledger["items"]] == [50, -300] and ledger["next"]


def test_longest_allowed_key_fits_every_ledger_key_built_from_it(api, make, tenant):
    """The ledger namespaces a client's key ("api:…:wholesale"); the longest key a client may send still fits."""
    make.member(tenant, telegram_id=52, balance=100)
    plan = make.plan(tenant)
    body = {"amount": 10, "reason": "x"}
    assert api.post("/api/v1/members/52/balance/credit", json=body, idempotency_key="k" * 100).status_code == 201
    assert api.post("/api/v1/members/52/subscriptions", json={"plan_id": plan.id},
                    idempotency_key="g" * 100).status_code == 201
    too_long = api.post("/api/v1/members/52/balance/credit", json=body, idempotency_key="k" * 101)
    assert too_long.status_code == 422 and too_long.mimetype == "application/problem+json"


def test_keys_are_per_tenant(app, api, db, make, tenant, token_for):
    from tests.api.conftest import ApiClient
    other_tenant = make.tenant()
    make.member(tenant, telegram_id=51, balance=100)
    make.member(other_tenant, telegram_id=51, balance=100)
    other = ApiClient(app.test_client(), token_for(other_tenant))
    body = {"amount": 10, "reason": "x"}
    assert api.post("/api/v1/members/51/balance/debit", json=body, idempotency_key="same").status_code == 201
    assert other.post("/api/v1/members/51/balance/debit", json={**body, "amount": 20},
                      idempotency_key="same").status_code == 201


def test_entitlement_quota_and_usage(api, db, make, tenant):
    member = make.member(tenant, telegram_id=60)
    bot = make.bot(tenant)
    plan = make.plan(tenant, traffic_gb=1, daily_request_quota=2)
    empty = api.get(f"/api/v1/members/60/entitlement?bot_id={bot.id}").get_json()
    assert empty["subscription"] is None and empty["quota"]["limit"] == 25
    key = new_key()
    grant = api.post("/api/v1/members/60/subscriptions", json={"plan_id": plan.id}, idempotency_key=key)
    assert grant.status_code == 201 and grant.get_json()["traffic_limit_bytes"] == GB
    assert api.post("/api/v1/members/60/subscriptions", json={"plan_id": plan.id},
                    idempotency_key=key).get_json() == grant.get_json()
    db.session.expire_all()
    assert db.session.get(type(tenant), tenant.id).traffic_sold_bytes == GB
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Subscription)) == 1
    consume = lambda: api.post("/api/v1/members/60/quota/consume", json={"bot_id": bot.id, "count": 1})
    assert [consume().get_json()["remaining"] for _ in range(2)] == [1, 0]
    refused = consume()
    assert refused.status_code == 429 and refused.get_json()["code"] == "quota_exhausted"
    assert refused.get_json()["resets_at"]
    entitled = api.get(f"/api/v1/members/60/entitlement?bot_id={bot.id}").get_json()
    assert entitled["subscription"]["plan_id"] == plan.id and entitled["quota"] | {"resets_at": 0} == {
        "used": 2, "limit": 2, "remaining": 0, "resets_at": 0}
    half = api.post("/api/v1/members/60/usage", json={"traffic_bytes": GB // 2}).get_json()
    assert half["became_limited"] is False and half["subscription"]["traffic_used_bytes"] == GB // 2
    full = api.post("/api/v1/members/60/usage", json={"traffic_bytes": GB // 2}).get_json()
    assert full["became_limited"] is True and full["subscription"]["status"] == SubscriptionStatus.LIMITED.value
    db.session.expire_all()
    assert db.session.get(type(tenant), tenant.id).traffic_consumed_bytes == GB


def test_quota_consume_makes_the_session_on_first_use_and_writes_nothing_past_the_limit(api, db, make, tenant):
    make.member(tenant, telegram_id=61)
    bot = make.bot(tenant)
    consume = lambda count: api.post("/api/v1/members/61/quota/consume", json={"bot_id": bot.id, "count": count})
    over = consume(26).get_json()  # the free quota is 25
    assert (over["status"], over["code"], over["used"], over["limit"]) == (429, "quota_exhausted", 0, 25)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BotSession)) == 0
    assert consume(20).get_json()["remaining"] == 5
    refused = consume(6).get_json()
    assert (refused["status"], refused["used"]) == (429, 20) and "Only 5 of today's 25" in refused["detail"]
    session = db.session.scalar(sa.select(BotSession))
    assert (session.member.telegram_id, session.bot_id, session.daily_requests) == (61, bot.id, 20)
    session.daily_requests_day -= timedelta(days=1)  # yesterday's count does not hold today's back
    db.session.commit()
    assert consume(25).get_json() | {"resets_at": 0} == {"used": 25, "limit": 25, "remaining": 0, "resets_at": 0}


def test_a_retried_usage_report_or_quota_spend_with_its_key_counts_once(api, db, make, tenant):
    make.member(tenant, telegram_id=62)
    bot = make.bot(tenant)
    plan = make.plan(tenant, traffic_gb=1, daily_request_quota=5)
    api.post("/api/v1/members/62/subscriptions", json={"plan_id": plan.id}, idempotency_key=new_key())
    usage_key, spend_key = new_key(), new_key()
    report = {"traffic_bytes": 1000}
    first = api.post("/api/v1/members/62/usage", json=report, idempotency_key=usage_key)
    again = api.post("/api/v1/members/62/usage", json=report, idempotency_key=usage_key)
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    assert first.get_json()["subscription"]["traffic_used_bytes"] == 1000
    spend = {"bot_id": bot.id, "count": 2}
    spent = api.post("/api/v1/members/62/quota/consume", json=spend, idempotency_key=spend_key).get_json()
    assert api.post("/api/v1/members/62/quota/consume", json=spend,
                    idempotency_key=spend_key).get_json() == spent == spent | {"used": 2, "remaining": 3}
    other = api.post("/api/v1/members/62/quota/consume", json={**spend, "count": 1}, idempotency_key=spend_key)
    assert other.status_code == 409
    db.session.expire_all()
    assert db.session.get(type(tenant), tenant.id).traffic_consumed_bytes == 1000


def test_usage_without_a_subscription_is_404(api, make, tenant):
    make.member(tenant, telegram_id=61)
    assert api.post("/api/v1/members/61/usage", json={"traffic_bytes": 5}).status_code == 404


def test_xp_badges_leaderboard_rank(api, make, tenant):
    make.member(tenant, telegram_id=70)
    make.member(tenant, telegram_id=71)
    given = api.post("/api/v1/members/70/xp", json={"amount": 500, "reason": "quiz"}).get_json()
    assert given["total_xp"] == 500 and given["old_level"] == 1 and given["leveled_up"] == (given["new_level"] > 1)
    api.post("/api/v1/members/71/xp", json={"amount": 10, "reason": "quiz"})
    board = api.get("/api/v1/leaderboard?period=all&limit=5").get_json()
    assert [(s["telegram_id"], s["rank"]) for s in board["items"]] == [(70, 1), (71, 2)]
    assert api.get("/api/v1/members/71/rank").get_json()["rank"] == 2
    first = api.post("/api/v1/members/70/badges", json={"code": "streak_7"}).get_json()
    again = api.post("/api/v1/members/70/badges", json={"code": "streak_7"}).get_json()
    assert first["newly_awarded"] and not again["newly_awarded"]
    assert [b["code"] for b in api.get("/api/v1/members/70/badges").get_json()["items"]] == ["streak_7"]
    assert api.post("/api/v1/members/70/badges", json={"code": "no_such"}).status_code == 404


def test_session_put_with_if_match(api, make, tenant):
    make.member(tenant, telegram_id=80)
    bot = make.bot(tenant)
    url = f"/api/v1/members/80/sessions/{bot.id}"
    fresh = api.get(url)
    assert fresh.get_json()["version"] == 0 and fresh.headers["ETag"] == '"0"'
    put = api.put(url, json={"stats_data": {"games": 1}}, headers={"If-Match": '"0"'})
    assert put.status_code == 200 and put.get_json()["version"] == 1
    stale = api.put(url, json={"stats_data": {"games": 9}}, headers={"If-Match": '"0"'})
    assert stale.status_code == 412 and stale.get_json()["code"] == "version_mismatch"
    assert api.get(url).get_json()["stats_data"] == {"games": 1}


def test_plans_promocodes_and_subscriptions_list(api, make, tenant):
    plan = make.plan(tenant, name="Gold")
    make.member(tenant, telegram_id=90)
    assert [p["name"] for p in api.get("/api/v1/plans").get_json()["items"]] == ["Gold"]
    created = api.post("/api/v1/promocodes", json={"code": "spring", "kind": "xp", "value": 5})
    assert created.status_code == 201 and created.get_json()["code"] == "SPRING"
    assert [p["code"] for p in api.get("/api/v1/promocodes").get_json()["items"]] == ["SPRING"]
    api.post("/api/v1/members/90/subscriptions", json={"plan_id": plan.id}, idempotency_key=new_key())
    listed = api.get("/api/v1/subscriptions?telegram_id=90&status=active").get_json()["items"]
    assert [s["plan_name"] for s in listed] == ["Gold"]


def test_receipts_approve_and_reject_through_the_service(api, db, make, tenant, outbox_rows):
    make.card(tenant)
    member = make.member(tenant, telegram_id=95)
    receipt = receipts.open_invoice(member, amount=50_000)
    receipts.submit(receipt, text="ref 1")
    db.session.commit()
    listed = api.get("/api/v1/receipts?status=pending_review").get_json()["items"]
    assert [r["id"] for r in listed] == [receipt.id]
    approved = api.post(f"/api/v1/receipts/{receipt.id}/approve", json={})
    assert approved.status_code == 200 and approved.get_json()["status"] == ReceiptStatus.APPROVED.value
    assert api.post(f"/api/v1/receipts/{receipt.id}/approve", json={}).status_code == 409
    db.session.expire_all()
    assert db.session.get(Member, member.id).balance == 50_000
    assert db.session.scalar(sa.select(AuditLog.actor).where(AuditLog.action == "receipt.approve")).startswith("api:")
    assert "receipt.admin_refresh" in {row.kind for row in outbox_rows()}  # the decision is announced once committed


def test_bot_features_and_config(api, db, make, tenant):
    bot = make.bot(tenant)
    features = api.get(f"/api/v1/bots/{bot.id}/features").get_json()["items"]
    assert {f["key"] for f in features} >= {"daily_quota", "referrals"}
    put = api.put(f"/api/v1/bots/{bot.id}/features/referrals", json={"enabled": False, "config": {"bonus": 5}})
    assert put.get_json() == {"key": "referrals", "enabled": False, "config": {"bonus": 5}}
    assert api.delete(f"/api/v1/bots/{bot.id}/features/referrals").status_code == 204
    assert api.get(f"/api/v1/bots/{bot.id}/features/referrals").get_json()["enabled"] is True
    assert api.put(f"/api/v1/bots/{bot.id}/config/welcome_text", json={"value": "Hi!"}).status_code == 200
    items = {i["key"]: i["value"] for i in api.get(f"/api/v1/bots/{bot.id}/config").get_json()["items"]}
    assert items["welcome_text"] == "Hi!" and "referrals" not in items
    assert api.put(f"/api/v1/bots/{bot.id}/config/nope", json={"value": 1}).status_code == 404
    assert api.delete(f"/api/v1/bots/{bot.id}/config/welcome_text").status_code == 204
    assert api.get(f"/api/v1/bots/{bot.id}/config/welcome_text").get_json()["value"] != "Hi!"
    assert api.post(f"/api/v1/bots/{bot.id}/deactivate").get_json()["is_active"] is False
    body = api.get(f"/api/v1/bots/{bot.id}").get_json()
    assert "token" not in body and body["token_hint"]
    assert api.delete(f"/api/v1/bots/{bot.id}").status_code == 204
    assert api.get(f"/api/v1/bots/{bot.id}").status_code == 404


def test_bot_token_is_checked_before_saving(api, db):
    from app.models import Bot
    response = api.post("/api/v1/bots", json={"token": "123456:not-a-real-token-at-all"})
    assert response.status_code == 422 and db.session.scalar(sa.select(sa.func.count()).select_from(Bot)) == 0
