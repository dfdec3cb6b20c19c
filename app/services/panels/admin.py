"""Panels as the owner manages them: add, edit, test the connection, map plans to a panel."""
from __future__ import annotations

import json
from urllib.parse import urlsplit

import sqlalchemy as sa

from app.extensions import db
from app.models import OnCancel, Panel, PanelKind, PanelUser, Plan, PlanPanel, Tenant
from app.services import audit, clock, crypto
from app.services.errors import NotFound, ValidationFailed
from app.services.lookup import get_owned
from app.services.panels import adapter_for, credentials_of
from app.services.panels.base import PanelError

KINDS = tuple(k.value for k in PanelKind)
TOKEN_KINDS = (PanelKind.REMNAWAVE.value,)


def panels_of(tenant: Tenant) -> list[Panel]:
    return list(db.session.scalars(sa.select(Panel).where(Panel.tenant_id == tenant.id).order_by(Panel.id)))


def get_panel(tenant: Tenant, panel_id: int) -> Panel:
    """The tenant's panel, or NotFound (also for another tenant's panel)."""
    return get_owned(Panel, tenant, panel_id, "No such panel.")


def create_panel(tenant: Tenant, *, name: str, kind: str, base_url: str, username: str = "", password: str = "",
                 token: str = "", subscription_base_url: str = "", on_cancel: str = OnCancel.DISABLE.value,
                 actor: str = "system") -> Panel:
    """A new panel; credentials are required and stored encrypted."""
    if kind not in KINDS:
        raise ValidationFailed(f"Unknown panel type {kind!r}.")
    panel = Panel(tenant_id=tenant.id, kind=kind, drift={}, is_active=True)
    _apply(panel, name=name, base_url=base_url, subscription_base_url=subscription_base_url, on_cancel=on_cancel)
    panel.credentials_encrypted = crypto.encrypt(json.dumps(_credentials(kind, username, password, token)))
    _unique_name(panel)
    db.session.add(panel)
    db.session.flush()
    audit.record(tenant.id, actor, "panel.create", f"panel:{panel.id}", kind=kind, base_url=panel.base_url)
    return panel


def update_panel(panel: Panel, *, name: str, base_url: str, username: str = "", password: str = "",
                 token: str = "", subscription_base_url: str = "", on_cancel: str = OnCancel.DISABLE.value,
                 is_active: bool = True, actor: str = "system") -> Panel:
    """Change a panel; empty credential fields keep the stored ones."""
    _apply(panel, name=name, base_url=base_url, subscription_base_url=subscription_base_url, on_cancel=on_cancel)
    panel.is_active = bool(is_active)
    if password or token or username:
        kept = credentials_of(panel)
        merged = _credentials(panel.kind, username or kept.get("username", ""), password or kept.get("password", ""),
                              token or kept.get("token", ""))
        panel.credentials_encrypted = crypto.encrypt(json.dumps(merged))
    _unique_name(panel)
    db.session.flush()
    audit.record(panel.tenant_id, actor, "panel.update", f"panel:{panel.id}", base_url=panel.base_url)
    return panel


def test_connection(panel: Panel) -> str | None:
    """Log in and read the user list; None when it worked, else what failed. Remembered on the panel."""
    try:
        adapter_for(panel).check()
        error = None
    except PanelError as exc:
        error = str(exc)[:500]
    panel.last_checked_at, panel.last_check_error = clock.now(), error
    db.session.flush()
    return error


def credential_hint(panel: Panel) -> str:
    """What the page may show about the credentials: the username, never a secret."""
    creds = credentials_of(panel)
    return creds.get("username") or "API token ••••"


def map_plan(tenant: Tenant, plan: Plan, panel: Panel | None, options: dict | None = None,
             actor: str = "system") -> PlanPanel | None:
    """Sell `plan` through `panel` with these options (None: the plan provisions nothing)."""
    if plan.tenant_id != tenant.id or (panel is not None and panel.tenant_id != tenant.id):
        raise NotFound("No such plan or panel.")
    mapping = db.session.get(PlanPanel, plan.id)
    if panel is None:
        if mapping is not None:
            db.session.delete(mapping)
        db.session.flush()
        return None
    options = check_options(panel.kind, options or {})
    if mapping is None:
        mapping = PlanPanel(plan_id=plan.id, tenant_id=tenant.id, panel_id=panel.id, options=options)
        db.session.add(mapping)
    mapping.panel_id, mapping.options = panel.id, options
    db.session.flush()
    audit.record(tenant.id, actor, "panel.map_plan", f"plan:{plan.id}", panel_id=panel.id, options=options)
    return mapping


def mappings_of(tenant: Tenant) -> dict[int, PlanPanel]:
    """plan id → its panel mapping."""
    rows = db.session.scalars(sa.select(PlanPanel).where(PlanPanel.tenant_id == tenant.id))
    return {m.plan_id: m for m in rows}


def check_options(kind: str, options: dict) -> dict:
    """Keep the options that panel type needs, checked; ValidationFailed says what is wrong."""
    if kind == PanelKind.MARZBAN.value:
        proxies, inbounds = options.get("proxies") or {"vless": {}}, options.get("inbounds") or {}
        if not isinstance(proxies, dict) or not isinstance(inbounds, dict):
            raise ValidationFailed("Marzban proxies and inbounds are JSON objects, e.g. {\"vless\": {}}.")
        return {"proxies": proxies, "inbounds": inbounds}
    if kind == PanelKind.PASARGUARD.value:
        return {"group_ids": _int_list(options.get("group_ids"), "PasarGuard group ids")}
    if kind == PanelKind.REMNAWAVE.value:
        squads = [str(s).strip() for s in options.get("squads") or [] if str(s).strip()]
        if any(len(s) != 36 for s in squads):
            raise ValidationFailed("Remnawave squads are internal squad UUIDs, one per line.")
        return {"squads": squads}
    inbound = _int_list([options.get("inbound_id")], "The 3x-ui inbound id")
    if not inbound:
        raise ValidationFailed("A 3x-ui plan needs the inbound id its clients go into.")
    return {"inbound_id": inbound[0], "flow": str(options.get("flow") or "")[:40]}


def panel_user_of(tenant: Tenant, panel_user_id: int) -> PanelUser:
    return get_owned(PanelUser, tenant, panel_user_id, "No such service.")


def _apply(panel: Panel, *, name: str, base_url: str, subscription_base_url: str, on_cancel: str) -> None:
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise ValidationFailed("The panel name must have 1 to 100 characters.")
    if on_cancel not in {o.value for o in OnCancel}:
        raise ValidationFailed("On cancel is either delete or disable.")
    panel.name, panel.on_cancel = name, on_cancel
    panel.base_url = _url(base_url, "The panel address")
    panel.subscription_base_url = _url(subscription_base_url, "The subscription address") \
        if (subscription_base_url or "").strip() else None


def _url(value: str, label: str) -> str:
    value = (value or "").strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(value) > 500:
        raise ValidationFailed(f"{label} must be an http(s) URL, e.g. https://panel.example.com:8000.")
    return value


def _credentials(kind: str, username: str, password: str, token: str) -> dict:
    if kind in TOKEN_KINDS:
        if not (token or "").strip():
            raise ValidationFailed("Remnawave needs an API token (Settings → API tokens in the panel).")
        return {"token": token.strip()}
    if not (username or "").strip() or not password:
        raise ValidationFailed("This panel needs the admin username and password.")
    return {"username": username.strip(), "password": password}


def _unique_name(panel: Panel) -> None:
    clash = db.session.scalar(sa.select(Panel.id).where(Panel.tenant_id == panel.tenant_id, Panel.name == panel.name,
                                                        Panel.id != (panel.id or 0)))
    if clash:
        raise ValidationFailed("Another panel has this name.")


def _int_list(values, label: str) -> list[int]:
    out = []
    for value in values or []:
        if value in (None, ""):
            continue
        try:
            out.append(int(value))
        except (TypeError, ValueError):
            raise ValidationFailed(f"{label} must be whole numbers.") from None
    return out
