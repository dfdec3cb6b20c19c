"""Subscriptions sold per plan, source and 15-minute slot (table plan_sale_counts), for the top-plans chart.

Written by triggers on `subscriptions` (migration 0043) as delta rows; `compact_tenant` (a scheduled job)
folds them. A window of whole tenant-local days is a range of whole slots (see SLOT_SECONDS).
"""
from __future__ import annotations

from datetime import datetime

from app.models import SLOT_SECONDS
from app.services import delta_counts

TABLE = delta_counts.DeltaTable("plan_sale_counts", ("plan_id", "source", "slot"), "sold", lock_class=0x5A1E)


def slot_of(instant: datetime) -> int:
    """The slot holding `instant` (aware)."""
    return int(instant.timestamp()) // SLOT_SECONDS


def compact_tenant(tenant, now=None) -> int:
    """The scheduled job's step (app/scheduler.py): fold the tenant's delta rows."""
    return delta_counts.compact(TABLE, tenant.id)
