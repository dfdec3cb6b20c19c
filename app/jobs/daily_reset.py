"""The daily turn at each tenant's local midnight: yesterday's stats snapshot and an audit row.

The per-day counters (members.xp_today, bot_sessions.daily_requests, payment_cards.received_today) carry
their day, and a counter whose day is not the tenant's today reads as 0 (app.services.xp, quota, cards,
leaderboard), so nothing is rewritten at midnight: rewriting 100k member rows and every member index
took seconds at 1M members.

A tick every minute turns every tenant whose local day has moved past `last_daily_reset_day`,
so a midnight missed while the process was down is caught up at the first tick after start.
"""
from __future__ import annotations

import logging
from datetime import date, datetime

import sqlalchemy as sa

from app.extensions import db
from app.jobs import stats
from app.models import Tenant
from app.services import audit, clock

log = logging.getLogger(__name__)


def reset_due_tenant(tenant: Tenant, now: datetime) -> None:
    """Reset `tenant` if its local day has changed since the last reset; a no-op otherwise."""
    today = clock.local_day(tenant.timezone, now)
    previous = tenant.last_daily_reset_day
    if not claim_day(tenant.id, today):
        return
    if previous is not None:
        stats.snapshot_day(tenant, previous, now)
    audit.record(tenant.id, "system", "jobs.daily_reset", f"tenant:{tenant.id}",
                 day=today.isoformat(), previous=previous.isoformat() if previous else None)
    log.info("daily reset of tenant %s for %s", tenant.id, today)


def claim_day(tenant_id: int, today: date) -> bool:
    """Move the tenant's reset day forward; False when `today` was already claimed."""
    result = db.session.execute(
        sa.update(Tenant)
        .where(Tenant.id == tenant_id,
               sa.or_(Tenant.last_daily_reset_day.is_(None), Tenant.last_daily_reset_day < today))
        .values(last_daily_reset_day=today)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
