"""The health picture shared by /healthz and `flask status`."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import Bot, BotStatus, Tenant
from app.runtime import heartbeat
from app.services import clock

#: The bot engine refreshes a running bot's last_seen_at every 15 s; older than this, nobody runs it.
RUNNING_STALE_AFTER = timedelta(seconds=45)


def check() -> dict:
    """Database reachable, leader present, bot counts; `ok` when the first two hold.

    Bots are those the engine should run (active, of an active tenant), by their recorded status;
    a "running" bot whose engine stopped refreshing it (a dead leader) counts as "stale".
    """
    report = {"ok": False, "database": {"ok": False}, "leader": {"present": False}, "bots": {}}
    try:
        db.session.execute(sa.text("SELECT 1"))
        leader, bots = _leader(), _bot_counts()
    except sa.exc.SQLAlchemyError as err:
        db.session.rollback()
        report["database"]["error"] = _describe(err)
        return report
    db.session.rollback()
    report.update(ok=leader["present"], database={"ok": True}, leader=leader, bots=bots)
    return report


def _leader() -> dict:
    beat = heartbeat.read()
    if beat is None:
        return {"present": False}
    return {"present": beat["fresh"], "pid": beat["pid"], "host": beat["host"],
            "heartbeat_age_seconds": beat["age_seconds"], "since": beat["started_at"],
            "components": beat.get("components", [])}


def _bot_counts() -> dict:
    fresh = Bot.last_seen_at >= clock.now() - RUNNING_STALE_AFTER
    state = sa.case((sa.and_(Bot.status == BotStatus.RUNNING.value, sa.or_(Bot.last_seen_at.is_(None), ~fresh)),
                     "stale"), else_=Bot.status)
    rows = db.session.execute(
        sa.select(state, sa.func.count()).join(Tenant, Tenant.id == Bot.tenant_id)
        .where(Bot.is_active.is_(True), Tenant.is_active.is_(True)).group_by(state)
    ).all()
    counts = {status.value: 0 for status in BotStatus} | {"stale": 0}
    counts.update({status: n for status, n in rows})
    return counts


def _describe(err: Exception) -> str:
    """The first line of the driver's message, without the SQL or connection parameters."""
    orig = getattr(err, "orig", None) or err
    lines = str(orig).strip().splitlines()
    return f"{orig.__class__.__name__}: {lines[0] if lines else ''}"[:200]
