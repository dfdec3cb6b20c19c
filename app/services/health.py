"""The health picture shared by /healthz and `flask status`."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Bot, BotStatus
from app.runtime import heartbeat


def check() -> dict:
    """Database reachable, leader present, bot counts; `ok` when the first two hold."""
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
    rows = db.session.execute(
        sa.select(Bot.status, sa.func.count()).where(Bot.is_active).group_by(Bot.status)
    ).all()
    counts = {status.value: 0 for status in BotStatus}
    counts.update({status: n for status, n in rows})
    return counts


def _describe(err: Exception) -> str:
    """The first line of the driver's message, without the SQL or connection parameters."""
    orig = getattr(err, "orig", None) or err
    lines = str(orig).strip().splitlines()
    return f"{orig.__class__.__name__}: {lines[0] if lines else ''}"[:200]
