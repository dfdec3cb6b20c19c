"""Members active per tenant-local day (table member_visit_counts): the daily stats' active members, read as the
sum of a day's few rows instead of a count of that day's members.

Written by triggers on `members` (migration 0046) when a member's last_visit_day moves to a new day, that is on
their first visit of the day (xp.record_visit), so a past day keeps the members who were active then even if
they came back since. `compact_tenant` (a scheduled job) folds the delta rows.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from app.models import MemberVisitCount
from app.services import delta_counts

TABLE = delta_counts.DeltaTable("member_visit_counts", ("day",), "members", lock_class=0x5A20)


def active_members_query(tenant_id: int, day: date) -> sa.ScalarSelect:
    """Members of the tenant whose visit counted on the tenant-local `day`."""
    c = MemberVisitCount
    return (sa.select(sa.func.coalesce(sa.func.sum(c.members), 0))
            .where(c.tenant_id == tenant_id, c.day == day).scalar_subquery())


def compact_tenant(tenant, now=None) -> int:
    """The scheduled job's step (app/scheduler.py): fold the tenant's delta rows into one row per day."""
    return delta_counts.compact(TABLE, tenant.id)
