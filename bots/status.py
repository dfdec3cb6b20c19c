"""Writing a bot's runtime status (running / error / stopped, last_error, last_seen_at) to its row."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from app import redaction
from app.extensions import db
from app.models import Bot, BotStatus, Tenant, utcnow

log = redaction.get_logger(__name__)


def active_bot_versions(app: Flask) -> dict[int, int]:
    """{bot id: config_version} of every bot that should run: active, of an active tenant."""
    with app.app_context():
        try:
            rows = db.session.execute(
                sa.select(Bot.id, Bot.config_version).join(Tenant, Tenant.id == Bot.tenant_id)
                .where(Bot.is_active.is_(True), Tenant.is_active.is_(True)))
            return {bot_id: version for bot_id, version in rows}
        finally:
            db.session.rollback()


def write_status(app: Flask, bot_id: int, version: int | None, status: BotStatus,
                 last_error: str | None = None, seen: bool = False) -> bool:
    """Record what the runtime sees; a row whose config changed meanwhile is left alone. False on failure."""
    values = {"status": status.value, "last_error": last_error[:500] if last_error else None}
    if seen:
        values["last_seen_at"] = utcnow()
    query = sa.update(Bot).where(Bot.id == bot_id)
    if version is not None:
        query = query.where(Bot.config_version == version)
    with app.app_context():
        try:
            db.session.execute(query.values(**values))
            db.session.commit()
            return True
        except Exception as exc:  # noqa: BLE001 - the database may be down; the next round tries again
            db.session.rollback()
            log.warning("could not record the status of bot %s: %s", bot_id, type(exc).__name__)
            return False
