"""The daily reset at each tenant's local midnight: one set-based UPDATE per table.

A tick every minute resets every tenant whose local day has moved past `last_daily_reset_day`,
so a midnight missed while the process was down is caught up at the first tick after start.
"""
from __future__ import annotations

import logging
from datetime import date, datetime

import sqlalchemy as sa

from app.extensions import db
from app.jobs import stats
from app.models import BotSession, Member, PaymentCard, Tenant
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
    reset_counters(tenant.id, today)
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


def reset_counters(tenant_id: int, today: date) -> None:
    """Zero the per-day counters of one tenant; counters already started today are left alone."""
    _zero(BotSession, tenant_id, BotSession.daily_requests, BotSession.daily_requests_day, today)
    _zero(Member, tenant_id, Member.xp_today, Member.xp_today_day, today)
    _zero(PaymentCard, tenant_id, PaymentCard.received_today, PaymentCard.received_day, today)


def _zero(model, tenant_id: int, counter, day_column, today: date) -> None:
    """One UPDATE: zero `counter` where it is non-zero and (if it has one) its day is before today."""
    conditions = [model.tenant_id == tenant_id, counter != 0]
    values = {counter.key: 0}
    if day_column is not None:
        conditions.append(sa.or_(day_column.is_(None), day_column < today))
        values[day_column.key] = today
    db.session.execute(sa.update(model).where(*conditions).values(values),
                       execution_options={"synchronize_session": False})
