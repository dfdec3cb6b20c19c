"""The API's plumbing: tokens, problem+json errors, validation, pagination, the OpenAPI document and docs page."""
from __future__ import annotations

import pytest

from app.models import ApiToken
from app.services import api_tokens
from tests.api.conftest import ApiClient

PROBLEM = "application/problem+json"


def test_openapi_document_is_3_1_and_lists_every_contract_operation(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    for path, method in [("/api/v1/members/{telegram_id}/balance/debit", "post"), ("/api/v1/bots", "post"),
                         ("/api/v1/members/{telegram_id}/quota/consume", "post"),
                         ("/api/v1/members/{telegram_id}/sessions/{bot_id}", "put"),
                         ("/api/v1/deliveries/{delivery_id}/resend", "post"), ("/api/v1/leaderboard", "get")]:
        operation = spec["paths"][path][method]
        assert operation["x-scope"] and "401" in operation["responses"]
    debit = spec["paths"]["/api/v1/members/{telegram_id}/balance/debit"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in debit["parameters"])


def test_docs_page_uses_only_local_assets(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_missing_unknown_and_revoked_tokens_are_401_problems(app, db, tenant, token_for):
    assert ApiClient(app.test_client(), None).get("/api/v1/members").status_code == 401
    wrong = ApiClient(app.test_client(), "bf_nope").get("/api/v1/members")
    assert wrong.status_code == 401 and wrong.mimetype == PROBLEM and wrong.get_json()["status"] == 401
    plaintext = token_for(tenant)
    assert app.test_client().get("/api/v1/members", headers={"X-API-Token": plaintext}).status_code == 200
    token = db.session.query(ApiToken).filter_by(token_hash=api_tokens.crypto.sha256_hex(plaintext)).one()
    api_tokens.revoke(tenant, token.id)
    db.session.commit()
    assert ApiClient(app.test_client(), plaintext).get("/api/v1/members").status_code == 401


def test_token_is_stored_hashed_with_a_prefix_and_last_use(api, db):
    token = db.session.query(ApiToken).one()
    assert token.token_hash != api.token and api.token.startswith(token.prefix) and token.last_used_at is None
    api.get("/api/v1/members")
    db.session.refresh(token)
    assert token.last_used_at is not None


def test_unknown_field_and_bad_types_are_422_with_errors_per_field(api, make, tenant):
    make.member(tenant, telegram_id=42)
    response = api.post("/api/v1/members", json={"telegram_id": 43, "nickname": "x"})
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert "nickname" in response.get_json()["errors"]
    response = api.post("/api/v1/members/42/balance/credit", json={"amount": "lots", "reason": ""},
                        idempotency_key="k1")
    assert response.status_code == 422 and {"amount", "reason"} <= set(response.get_json()["errors"])


def test_unknown_api_url_is_a_404_problem(api):
    response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.mimetype == PROBLEM


@pytest.mark.parametrize("method, url", [
    ("get", "/api/v1/members/{}"), ("get", "/api/v1/webhook-endpoints/{}/deliveries"),
    ("delete", "/api/v1/webhook-endpoints/{}"), ("post", "/api/v1/receipts/{}/approve"),
    ("post", "/api/v1/deliveries/{}/resend")])
@pytest.mark.parametrize("big", [2**31, 2**62 + 1, 2**63, 10**30])
def test_path_ids_beyond_what_the_columns_hold_are_404_problems(api, method, url, big):
    response = getattr(api, method)(url.format(big))
    assert response.status_code == 404 and response.mimetype == PROBLEM


def test_members_get_or_create_and_cursor_pages(api):
    assert api.post("/api/v1/members", json={"telegram_id": 7, "first_name": "Ann", "language": "en"}).status_code == 201
    again = api.post("/api/v1/members", json={"telegram_id": 7})
    assert again.status_code == 200 and again.get_json()["first_name"] == "Ann"
    for telegram_id in range(100, 105):
        api.post("/api/v1/members", json={"telegram_id": telegram_id})
    seen, url = [], "/api/v1/members?limit=2"
    while url:
        body = api.get(url).get_json()
        seen += [m["telegram_id"] for m in body["items"]]
        url = body["next"] and f"/api/v1/members?limit=2&after={body['next']}"
    assert seen == [104, 103, 102, 101, 100, 7]
    assert api.get("/api/v1/members?limit=201").status_code == 422


def test_patch_member(api, make, tenant):
    make.member(tenant, telegram_id=9)
    body = api.patch("/api/v1/members/9", json={"language": "ru", "vip_level": 2, "is_banned": True}).get_json()
    assert (body["language"], body["vip_level"], body["is_banned"]) == ("ru", 2, True)


def test_rate_limit_is_429_problem_with_retry_after(app, api):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    try:
        statuses = [api.get("/api/v1/plans").status_code for _ in range(4)]
    finally:
        app.config["API_RATE_LIMIT"] = "100000 per minute"
    limited = api.get("/api/v1/plans")
    assert statuses == [200, 200, 200, 429] or limited.status_code == 200
    assert statuses[-1] == 429


def test_cli_creates_a_token_printed_on_the_last_line(app, runner, tenant):
    result = runner.invoke(args=["api-token", "create", "--tenant", tenant.slug, "--name", "VPN panel",
                                 "--scope", "read", "--scope", "money"])
    assert result.exit_code == 0, result.output
    plaintext = result.output.strip().splitlines()[-1]
    client = ApiClient(app.test_client(), plaintext)
    assert client.get("/api/v1/plans").status_code == 200
    assert client.post("/api/v1/members", json={"telegram_id": 5}).status_code == 403
    assert runner.invoke(args=["api-token", "create", "--tenant", "nope", "--name", "x"]).exit_code != 0
