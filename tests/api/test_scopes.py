"""The scope matrix: every operation × every scope. Only the operation's scope gets past 403."""
from __future__ import annotations

from app.services.api_tokens import SCOPES
from tests.api.conftest import ApiClient
from tests.api.operations import OPERATIONS, build_tenant_world

#: The contract (issue 11): which scope each operation needs.
WRITE_MEMBERS = {"api.create_member", "api.patch_member", "api.award_badge", "api.give_xp", "api.put_session",
                 "api.reply_ticket"}
MONEY = {"api.credit", "api.debit", "api.consume", "api.report_usage", "api.grant_subscription",
         "api.create_promocode"}
RECEIPTS = {"api.list_receipts", "api.approve_receipt", "api.reject_receipt"}
#: Issue 12: deposit SMS from the owner's phone.
BANK = {"api.post_bank_message"}
WEBHOOKS = {"api.list_endpoints", "api.create_endpoint", "api.delete_endpoint", "api.list_deliveries",
            "api.resend_delivery"}


def expected_scope(operation) -> str:
    for scope, endpoints in (("members:write", WRITE_MEMBERS), ("money", MONEY), ("receipts", RECEIPTS),
                             ("webhooks", WEBHOOKS), ("bank", BANK)):
        if operation.endpoint in endpoints:
            return scope
    return "read" if operation.method == "GET" else "bots:admin"


def test_scope_matrix(app, db, make, tenant, token_for):
    ids = build_tenant_world(db, make, tenant, telegram_id=3000)
    clients = {scope: ApiClient(app.test_client(), token_for(tenant, [scope])) for scope in SCOPES}
    refused = {(op.endpoint, scope): op.request(clients[scope], ids).status_code
               for op in OPERATIONS for scope in SCOPES if scope != expected_scope(op)}
    assert {key: status for key, status in refused.items() if status != 403} == {}
    allowed = {op.endpoint: op.request(clients[expected_scope(op)], ids, key=f"scope-{op.endpoint}").status_code
               for op in OPERATIONS}
    assert {endpoint: status for endpoint, status in allowed.items() if status in (401, 403)} == {}


def test_document_states_each_operations_scope(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    by_endpoint = {}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            by_endpoint[(path, method.upper())] = operation["x-scope"]
    for op in OPERATIONS:
        path = "/api/v1" + op.url.split("?")[0].replace("{telegram_id}", "{telegram_id}")
        matches = [scope for (p, m), scope in by_endpoint.items() if m == op.method and _same(p, path)]
        assert matches == [expected_scope(op)], op.endpoint


def _same(template: str, concrete: str) -> bool:
    a, b = template.split("/"), concrete.split("/")
    return len(a) == len(b) and all(x == y or x.startswith("{") or y.startswith("{") for x, y in zip(a, b))
