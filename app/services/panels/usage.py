"""Reading traffic back from the panels: subscriptions' usage, the tenant's counters, caps, drift.

One pass per panel: the adapter pages through every user of the panel (pages of ≤ 1000, so memory
and request count grow with the panel, never unbounded per call), the figures are compared with the
PanelUser rows in memory, and only what changed is written, in bulk.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.models import Panel, PanelUser, PanelUserStatus, Tenant
from app.services import events, wallet
from app.services.panels import adapter_for
from app.services.panels.base import PanelError
from app.services.panels.provisioning import subscription_changed

log = logging.getLogger(__name__)

#: Rows per set-based UPDATE (one statement per chunk, not one per row).
CHUNK = 1000
#: How many names a drift report keeps per list (the count is always exact).
DRIFT_SAMPLE = 50


@dataclass
class UsagePass:
    """What one panel's pass found."""

    panel_id: int
    read: int = 0
    consumed_bytes: int = 0
    limited: list[int] = field(default_factory=list)
    error: str | None = None


def read_tenant_usage(tenant: Tenant, now: datetime) -> list[UsagePass]:
    """A job step: one pass over each active panel of the tenant."""
    panels = db.session.scalars(sa.select(Panel).where(Panel.tenant_id == tenant.id, Panel.is_active.is_(True))
                                .order_by(Panel.id)).all()
    return [read_panel_usage(tenant, panel, now) for panel in panels]


def read_panel_usage(tenant: Tenant, panel: Panel, now: datetime) -> UsagePass:
    """Read every user of `panel`, count new traffic, limit what reached its cap, report drift."""
    result = UsagePass(panel.id)
    try:
        remote = {user.username: user.used_bytes for user in adapter_for(panel).iter_users()}
    except PanelError as exc:
        result.error = panel.last_check_error = str(exc)[:500]
        log.info("usage of panel %s not read: %s", panel.id, result.error)
        return result
    result.read = len(remote)
    ours = db.session.execute(
        sa.select(PanelUser.id, PanelUser.username, PanelUser.used_bytes, PanelUser.subscription_id,
                  PanelUser.status).where(PanelUser.panel_id == panel.id, PanelUser.tenant_id == tenant.id)).all()
    deltas = _new_usage(ours, remote)
    result.consumed_bytes = sum(deltas.values())
    limited = wallet.record_panel_usage(tenant, deltas)
    for subscription in limited:
        events.subscription_changed("subscription.limited", subscription)
        subscription_changed(subscription)  # disable the panel user at its cap
    result.limited = [s.id for s in limited]
    panel.drift = _drift(ours, remote, now)
    panel.last_usage_at = now
    db.session.flush()
    return result


def _new_usage(ours, remote: dict[str, int]) -> dict[int, int]:
    """subscription id → bytes used since the last read; PanelUser.used_bytes moves to the panel's figure."""
    deltas, changed = {}, []
    for row in ours:
        used = remote.get(row.username)
        if used is None or used == row.used_bytes:
            continue
        # A panel whose counter went down (usage reset, user re-created) restarts from 0.
        deltas[row.subscription_id] = used - row.used_bytes if used > row.used_bytes else used
        changed.append((row.id, used))
    for start in range(0, len(changed), CHUNK):
        chunk = dict(changed[start:start + CHUNK])
        db.session.execute(sa.update(PanelUser).where(PanelUser.id.in_(chunk))
                           .values(used_bytes=sa.case(chunk, value=PanelUser.id)),
                           execution_options={"synchronize_session": False})
    return {sub_id: delta for sub_id, delta in deltas.items() if delta > 0}


def _drift(ours, remote: dict[str, int], now: datetime) -> dict:
    known = {row.username for row in ours if row.status != PanelUserStatus.DELETED.value}
    expected = {row.username for row in ours if row.status in (PanelUserStatus.ACTIVE.value,
                                                               PanelUserStatus.DISABLED.value)}
    unknown = sorted(set(remote) - known)
    missing = sorted(expected - set(remote))
    return {"at": now.isoformat(), "unknown_count": len(unknown), "unknown": unknown[:DRIFT_SAMPLE],
            "missing_count": len(missing), "missing": missing[:DRIFT_SAMPLE], "panel_users": len(remote)}

