"""Every dashboard URL × who asks: anonymous, another tenant's owner, a viewer, an approver.

The routes come from app.url_map, so a new route fails here until it is classified below.
"""
from __future__ import annotations

import pytest

from tests.conftest import _empty_all_tables
from tests.dashboard_world import build_world
from tests.factories import AuthActions, Factories
from tests.helpers import csrf_token

PUBLIC, LOGIN, READ, OWNER, RECEIPT_READ, RECEIPT_DECIDE, PLATFORM = (
    "public", "login", "read", "owner", "receipt_read", "receipt_decide", "platform")
#: Support tickets: every staff role reads them; owners, approvers and support answer. Members: support reads too.
TICKET_READ, TICKET_ANSWER, MEMBER_READ = "ticket_read", "ticket_answer", "member_read"

#: endpoint → who may use it. GET of READ/RECEIPT_READ is reading; everything else changes something.
ACCESS = {
    "static": PUBLIC, "bootstrap.static": PUBLIC, "auth.login": PUBLIC, "auth.accept_invitation": PUBLIC,
    "main.set_language": PUBLIC, "health.healthz": PUBLIC,
    "pay.zarinpal_callback": PUBLIC,
    "sandbox_chat.chat": OWNER, "sandbox_chat.messages": OWNER, "sandbox_chat.photo": OWNER,
    "sandbox_chat.send": OWNER, "sandbox_chat.upload": OWNER, "sandbox_chat.press": OWNER,
    "sandbox_chat.pay": OWNER,
    "main.home": LOGIN, "main.switch_tenant": LOGIN, "auth.logout": LOGIN, "auth.change_password": LOGIN,
    "overview.index": READ, "overview.dismiss_notice": OWNER, "bot_admin.index": READ, "bot_admin.show": READ, "plans.index": READ,
    "cards.index": READ, "members.index": MEMBER_READ, "members.export": READ, "exports.download": READ, "members.show": MEMBER_READ,
    "leaderboard.index": READ, "wallet.index": READ, "promocodes.index": READ, "promocodes.show": READ,
    "audit.index": READ, "tenant_settings.index": READ, "tenant_settings.update": OWNER,
    "online.index": READ, "online.merchant": OWNER, "wallet.topup_zarinpal": OWNER,
    "wallet.topup_card": OWNER, "wallet.topup_photo": READ, "wallet.topup_cancel": OWNER,
    "bot_admin.create": OWNER, "bot_admin.settings": OWNER, "bot_admin.toggle": OWNER,
    "plans.create": OWNER, "plans.edit": OWNER, "plans.archive": OWNER, "plans.move": OWNER,
    "cards.create": OWNER, "cards.edit": OWNER, "cards.toggle": OWNER, "cards.rotation": OWNER,
    "members.adjust": OWNER, "members.ban": OWNER, "members.grant": OWNER, "members.subscription": OWNER,
    "members.cancel_subscription": OWNER, "members.change_plan": OWNER,
    "promocodes.create": OWNER, "promocodes.disable": OWNER,
    # Broadcasts: owners only, reading included (approvers, viewers and support get 403).
    "broadcasts.index": OWNER, "broadcasts.create": OWNER, "broadcasts.show": OWNER, "broadcasts.progress": OWNER,
    "broadcasts.photo": OWNER, "broadcasts.confirm": OWNER, "broadcasts.pause": OWNER, "broadcasts.resume": OWNER,
    "broadcasts.cancel": OWNER,
    "staff.index": OWNER, "staff.invite": OWNER, "staff.revoke": OWNER,
    "receipts.index": RECEIPT_READ, "receipts.history": RECEIPT_READ, "receipts.show": RECEIPT_READ,
    "receipts.photo": RECEIPT_READ,
    "receipts.approve": RECEIPT_DECIDE, "receipts.reject": RECEIPT_DECIDE,
    "imports.users_json": OWNER,
    "bank.index": RECEIPT_READ, "bank.paste": RECEIPT_DECIDE, "bank.approve": RECEIPT_DECIDE,
    "tickets.index": TICKET_READ, "tickets.show": TICKET_READ, "tickets.photo": TICKET_READ,
    "tickets.answer": TICKET_ANSWER, "tickets.assign": TICKET_ANSWER, "tickets.close": TICKET_ANSWER,
    "platform.tenants": PLATFORM, "platform.create_tenant": PLATFORM, "platform.topup": PLATFORM,
    "platform.prices": PLATFORM,
    "platform.receipts": PLATFORM, "platform.receipt": PLATFORM, "platform.receipt_photo": PLATFORM,
    "platform.approve_receipt": PLATFORM, "platform.reject_receipt": PLATFORM,
    "platform.cards": PLATFORM, "platform.create_card": PLATFORM, "platform.toggle_card": PLATFORM,
    "panels.index": READ, "panels.show": READ,
    "panels.create": OWNER, "panels.edit": OWNER, "panels.test": OWNER, "panels.plan": OWNER,
    "panels.reset_link": OWNER, "panels.reprovision": OWNER,
    "chats.index": READ, "chats.show": READ, "chats.connect": OWNER, "chats.check": OWNER, "chats.disconnect": OWNER,
    "chats.refund": OWNER,
    # The integration API and its OpenAPI document: token-authenticated, with their own matrices in tests/api.
    "openapi.spec": PUBLIC, "openapi.docs": PUBLIC,
    "integrations.index": OWNER, "integrations.create_token": OWNER, "integrations.revoke_token": OWNER,
    "integrations.create_endpoint": OWNER, "integrations.deliveries": OWNER, "integrations.delete_endpoint": OWNER,
    "integrations.resend": OWNER,
}
#: URL arguments that name a row of the tenant: another tenant's owner gets 404 for them.
#: JSON feeds that need query arguments (a bot and a test user) to answer 200.
NEEDS_QUERY = {"sandbox_chat.messages", "sandbox_chat.photo"}
TENANT_OWNED_ARGS = {"bot_id", "plan_id", "card_id", "member_id", "receipt_id", "message_id", "promocode_id", "invitation_id", "notice_id",
                     "panel_id", "panel_user_id", "ticket_id", "entry_id", "token_id", "endpoint_id", "delivery_id",
                     "broadcast_id", "paid_chat_id", "star_payment_id", "subscription_id", "topup_id"}


def _api_endpoints(app) -> dict:
    return {rule.endpoint: PUBLIC for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")}


def _routes():
    from app import create_app
    from config import TestConfig

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://")
    ACCESS.update(_api_endpoints(app))
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, rule.rule, method, frozenset(rule.arguments)


ROUTES = [r for r in _routes() if ACCESS.get(r[0]) != PUBLIC]


def test_every_route_is_classified():
    from app import create_app
    from config import TestConfig

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://")
    unclassified = sorted({rule.endpoint for rule in app.url_map.iter_rules()} - set(ACCESS))
    assert not unclassified, f"classify these endpoints in ACCESS of {__file__}: {unclassified}"


@pytest.fixture(scope="module")
def world(app):
    from app.extensions import db

    with app.app_context():
        built = build_world(db, Factories(db), app.instance_path)
        clients = {"anonymous": app.test_client()}
        for name in ("owner", "approver", "viewer", "support", "stranger", "admin"):
            clients[name] = app.test_client()
            AuthActions(clients[name]).login(getattr(built, name).email)
        tokens = {name: csrf_token(c.get("/login" if name == "anonymous" else "/account/password"))
                  for name, c in clients.items()}
        yield built, clients, tokens
        db.session.remove()
        _empty_all_tables(db)


def _call(world, who, rule, method, arguments):
    built, clients, tokens = world
    url = rule
    for name in arguments:
        url = url.replace(f"<int:{name}>", str(built.ids[name])).replace(f"<{name}>", str(built.ids[name]))
    client = clients[who]
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": tokens[who]})


def _ids(routes):
    return [f"{method} {rule}" for _, rule, method, _ in routes]


@pytest.mark.parametrize("endpoint,rule,method,arguments", ROUTES, ids=_ids(ROUTES))
def test_anonymous_is_sent_to_login(world, endpoint, rule, method, arguments):
    response = _call(world, "anonymous", rule, method, arguments)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


OWNED = [r for r in ROUTES if r[3] & TENANT_OWNED_ARGS]


@pytest.mark.parametrize("endpoint,rule,method,arguments", OWNED, ids=_ids(OWNED))
def test_another_tenants_owner_gets_404(world, endpoint, rule, method, arguments):
    assert _call(world, "stranger", rule, method, arguments).status_code == 404


def _expected(role: str, access: str, method: str) -> str:
    """'ok' (any answer but 403/404/login), or 'forbidden'."""
    if access == LOGIN:
        return "ok"
    if access == PLATFORM:
        return "forbidden"
    if role == "viewer":
        return "ok" if method == "GET" and access in (READ, RECEIPT_READ, TICKET_READ, MEMBER_READ) else "forbidden"
    if role == "support":
        return "ok" if access in (TICKET_READ, TICKET_ANSWER) or (access == MEMBER_READ and method == "GET") \
            else "forbidden"
    return "ok" if access in (RECEIPT_READ, RECEIPT_DECIDE, TICKET_READ, TICKET_ANSWER) else "forbidden"


STAFF_CASES = [(role, *r) for role in ("viewer", "approver", "support") for r in ROUTES
               if ACCESS[r[0]] != LOGIN or r[2] == "GET"]


@pytest.mark.parametrize("role,endpoint,rule,method,arguments", STAFF_CASES,
                         ids=[f"{c[0]} {c[3]} {c[2]}" for c in STAFF_CASES])
def test_viewer_reads_only_and_approver_sees_receipts_only(world, role, endpoint, rule, method, arguments):
    response = _call(world, role, rule, method, arguments)
    if _expected(role, ACCESS[endpoint], method) == "forbidden":
        assert response.status_code == 403
    else:
        assert response.status_code not in (403, 404, 500), response.status_code
        if method == "GET" and ACCESS[endpoint] != LOGIN:
            assert response.status_code == 200


def test_platform_admin_reaches_platform_pages(world):
    _, clients, _ = world
    assert clients["admin"].get("/admin/tenants").status_code == 200


PLATFORM_ROUTES = [r for r in ROUTES if ACCESS[r[0]] == PLATFORM]


@pytest.mark.parametrize("endpoint,rule,method,arguments", PLATFORM_ROUTES, ids=_ids(PLATFORM_ROUTES))
def test_owners_are_refused_platform_pages_that_platform_admins_read(world, endpoint, rule, method, arguments):
    assert _call(world, "owner", rule, method, arguments).status_code == 403
    if method == "GET":
        assert _call(world, "admin", rule, method, arguments).status_code == 200


def test_owner_reads_every_page(world):
    built, clients, _ = world
    for endpoint, rule, method, arguments in ROUTES:
        if method == "GET" and ACCESS[endpoint] in (READ, RECEIPT_READ, OWNER, TICKET_READ, MEMBER_READ) \
                and endpoint not in NEEDS_QUERY:
            response = _call(world, "owner", rule, method, arguments)
            assert response.status_code == 200, (rule, response.status_code)
