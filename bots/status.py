"""Writing a bot's runtime status (running / error / stopped, last_error, last_seen_at) to its row."""
from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

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


class StatusReport(NamedTuple):
    """What the supervisor records for one running bot."""

    bot_id: int
    version: int
    status: BotStatus
    last_error: str | None = None
    seen: bool = False


#: Bots per UPDATE of a batch (two bound parameters each).
BATCH_SIZE = 1000


def write_statuses(app: Flask, reports: list[StatusReport]) -> bool:
    """Record many bots' status in one transaction: one UPDATE per (status, error, seen) and BATCH_SIZE bots.

    A thousand polling bots beat every 15 s; one commit per bot would keep the supervisor (and the
    database) busy for seconds each round. A row whose config changed meanwhile is left alone.
    """
    groups: dict[tuple, list[tuple[int, int]]] = defaultdict(list)
    for report in reports:
        groups[(report.status, report.last_error, report.seen)].append((report.bot_id, report.version))
    with app.app_context():
        try:
            now = utcnow()
            for (status, last_error, seen), keys in groups.items():
                values = _values(status, last_error, now if seen else None)
                for start in range(0, len(keys), BATCH_SIZE):
                    db.session.execute(sa.update(Bot).where(
                        sa.tuple_(Bot.id, Bot.config_version).in_(keys[start:start + BATCH_SIZE])).values(**values))
            db.session.commit()
            return True
        except Exception as exc:  # noqa: BLE001 - the database may be down; the next round tries again
            db.session.rollback()
            log.warning("could not record the status of %s bots: %s", len(reports), type(exc).__name__)
            return False


def _values(status: BotStatus, last_error: str | None, seen_at) -> dict:
    values = {"status": status.value, "last_error": last_error[:500] if last_error else None}
    if seen_at is not None:
        values["last_seen_at"] = seen_at
    return values


def write_status(app: Flask, bot_id: int, version: int | None, status: BotStatus,
                 last_error: str | None = None, seen: bool = False) -> bool:
    """Record what the runtime sees; a row whose config changed meanwhile is left alone. False on failure."""
    values = _values(status, last_error, utcnow() if seen else None)
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
