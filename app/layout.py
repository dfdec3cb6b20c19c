"""What every dashboard page needs: the current tenant and role, the side navigation, the forms in the top bar."""
from __future__ import annotations

from flask import Flask, current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.labels import LABELS
from app.models import Role
from app.services.tenancy import memberships_of
from app.tenant_context import current_membership

OWNER, APPROVER, VIEWER, SUPPORT = Role.OWNER.value, Role.APPROVER.value, Role.VIEWER.value, Role.SUPPORT.value
READERS = (OWNER, VIEWER)
ROLE_LABELS = LABELS["role"]

#: (endpoint, label, roles that see it). Approvers see receipts only; viewers read everything else.
NAVIGATION = [
    ("overview.index", _l("Overview"), READERS),
    ("bot_admin.index", _l("Bots"), READERS),
    ("plans.index", _l("Plans"), READERS),
    ("panels.index", _l("VPN panels"), READERS),
    ("chats.index", _l("Channels & groups"), READERS),
    ("cards.index", _l("Payment cards"), READERS),
    ("online.index", _l("Online payments"), READERS),
    ("receipts.index", _l("Receipts"), (OWNER, APPROVER, VIEWER)),
    ("bank.index", _l("Bank messages"), (OWNER, APPROVER, VIEWER)),
    ("tickets.index", _l("Support tickets"), (OWNER, APPROVER, VIEWER, SUPPORT)),
    ("members.index", _l("Members"), (*READERS, SUPPORT)),
    ("leaderboard.index", _l("Leaderboard"), READERS),
    ("wallet.index", _l("Wallet and traffic"), READERS),
    ("promocodes.index", _l("Promo codes"), READERS),
    ("broadcasts.index", _l("Broadcasts"), (OWNER,)),
    ("audit.index", _l("Audit log"), READERS),
    ("staff.index", _l("Staff"), (OWNER,)),
    ("imports.users_json", _l("Import members"), (OWNER,)),
    ("integrations.index", _l("Integrations"), (OWNER,)),
    ("tenant_settings.index", _l("Settings"), READERS),
    ("sandbox_chat.chat", _l("Sandbox chat"), (OWNER,)),
]


#: Per-request caches kept on `g`. `g` lives on the app context, which a test may hold across requests.
REQUEST_CACHES = ("membership", "_login_user", "_flask_babel", "csrf_token")


def init_app(app: Flask) -> None:
    app.before_request(_forget_request_caches)
    app.context_processor(_layout_context)
    app.jinja_env.globals["has_page"] = lambda endpoint: endpoint in current_app.view_functions


def _forget_request_caches() -> None:
    for key in REQUEST_CACHES:
        g.pop(key, None)


def _layout_context() -> dict:
    if not current_user.is_authenticated:
        return {"nav_items": [], "membership": None, "can_edit": False, "role_labels": ROLE_LABELS}
    membership = current_membership()
    role = membership.role if membership else None
    return {
        "role_labels": ROLE_LABELS,
        "memberships_for_switcher": memberships_of(current_user),
        "membership": membership,
        "tenant": membership.tenant if membership else None,
        "role": role,
        "can_edit": role == OWNER,
        "nav_items": _nav_items(role),
    }


def _nav_items(role: str | None) -> list[dict]:
    items = [{"endpoint": e, "label": label} for e, label, roles in NAVIGATION
             if role in roles and e in current_app.view_functions]
    if current_user.is_platform_admin and "platform.tenants" in current_app.view_functions:
        items.append({"endpoint": "platform.tenants", "label": _l("Platform admin")})
    for item in items:
        item["active"] = (request.endpoint or "").split(".")[0] == item["endpoint"].split(".")[0]
    return items
