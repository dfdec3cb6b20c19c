"""Counts kept from subscriptions for the overview: sold per plan, source and 15-minute slot (plan_sale_counts,
the top-plans chart) and held per status (subscription_status_counts, the live-subscriptions figure).

Written by triggers on `subscriptions` (migrations 0043, 0045) as delta rows; `compact_tenant` (a scheduled job)
folds them. A window of whole tenant-local days is a range of whole slots (see SLOT_SECONDS).
"""
from __future__ import annotations

from datetime import datetime

from app.models import SLOT_SECONDS
from app.services import delta_counts

TABLES = (delta_counts.DeltaTable("plan_sale_counts", ("plan_id", "source", "slot"), "sold", lock_class=0x5A1E),
          delta_counts.DeltaTable("subscription_status_counts", ("status",), "subscriptions", lock_class=0x5A1F))


def slot_of(instant: datetime) -> int:
    """The slot holding `instant` (aware)."""
    return int(instant.timestamp()) // SLOT_SECONDS


def compact_tenant(tenant, now=None) -> int:
    """The scheduled job's step (app/scheduler.py): fold the tenant's delta rows of both tables."""
    return sum(delta_counts.compact(table, tenant.id) for table in TABLES)
