"""Subscription expiry and the 3-day / 1-day reminders, each told to the member once.

Expiring is the money service's (`app.services.subscriptions.expire_due`). Telling is ours: a row is
marked (`expiry_notified_at`, `reminded_3d_at`, `reminded_1d_at`) in the same transaction that writes
the notice to the outbox, so a second run finds nothing to tell.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.jobs.runner import Notice
from app.models import Plan, Subscription, SubscriptionStatus, Tenant
from app.services import clock, subscriptions

log = logging.getLogger(__name__)

LIVE = (SubscriptionStatus.ACTIVE.value, SubscriptionStatus.LIMITED.value)
#: Expired longer ago than this (e.g. before the job existed) is marked without a message.
TELL_EXPIRED_WITHIN = timedelta(days=3)
#: Rows selected and marked per statement: a tenant with 50,000 due rows is 50 small round trips,
#: not one IN list of 50,000 parameters.
CLAIM_BATCH = 1000


def expire_and_remind(tenant: Tenant, now: datetime) -> list[Notice]:
    """A job step: expire what ended, then collect the expiry notices and reminders."""
    subscriptions.expire_due(tenant, now=now)
    return tell_expired(tenant, now) + remind(tenant, now, timedelta(days=1), "1d") + \
        remind(tenant, now, timedelta(days=3), "3d")


def tell_expired(tenant: Tenant, now: datetime) -> list[Notice]:
    """Notices for expired subscriptions not yet told; marks them told."""
    rows = _claim(tenant, now, Subscription.expiry_notified_at,
                  Subscription.status == SubscriptionStatus.EXPIRED.value)
    return [Notice(r.member_id, "subscription_expired", _params(r, tenant, now)) for r in rows
            if r.ends_at > now - TELL_EXPIRED_WITHIN]


def remind(tenant: Tenant, now: datetime, ahead: timedelta, label: str) -> list[Notice]:
    """Notices for live subscriptions ending within `ahead` and not yet reminded for `label`.

    A subscription no longer than `ahead` (a short grant) is marked without the 3-day reminder: its member
    was just told when it ends, and gets the one-day reminder only. The day count is in the tenant's calendar.
    """
    column = Subscription.reminded_1d_at if label == "1d" else Subscription.reminded_3d_at
    rows = _claim(tenant, now, column, Subscription.status.in_(LIVE),
                  Subscription.ends_at > now, Subscription.ends_at <= now + ahead)
    if label == "1d" and rows:
        # Within a day of the end the 3-day reminder is stale: count it as given.
        _mark([r.id for r in rows], Subscription.reminded_3d_at, now, only_unset=True)
    return [Notice(r.member_id, _reminder_key(label, params["days"]), params) for r, params in
            ((r, _params(r, tenant, now)) for r in rows) if label == "1d" or r.ends_at - r.starts_at > ahead]


def _reminder_key(label: str, days: int) -> str:
    return "subscription_reminder_today" if label == "1d" and days <= 0 else f"subscription_reminder_{label}"


def _claim(tenant: Tenant, now: datetime, marker, *conditions) -> list:
    """Select and mark the unmarked rows in batches of CLAIM_BATCH (bounded IN lists, bounded statements)."""
    rows: list = []
    while True:
        batch = db.session.execute(
            sa.select(Subscription.id, Subscription.member_id, Subscription.starts_at, Subscription.ends_at,
                      Plan.name.label("plan_name"))
            .join(Plan, Plan.id == Subscription.plan_id)
            .where(Subscription.tenant_id == tenant.id, marker.is_(None), *conditions)
            .order_by(Subscription.id).limit(CLAIM_BATCH)
        ).all()
        _mark([r.id for r in batch], marker, now, only_unset=True)
        rows += batch
        if len(batch) < CLAIM_BATCH:
            return rows


def _mark(ids: list[int], marker, now: datetime, *, only_unset: bool) -> None:
    for start in range(0, len(ids), CLAIM_BATCH):
        conditions = [Subscription.id.in_(ids[start:start + CLAIM_BATCH])] + ([marker.is_(None)] if only_unset else [])
        db.session.execute(
            sa.update(Subscription).where(*conditions).values({marker.key: now}),
            execution_options={"synchronize_session": False},
        )


def _params(row, tenant: Tenant, now: datetime) -> dict:
    """The notice's params; `days` counts calendar days from today to the end day, in the tenant's zone."""
    days = (clock.local_day(tenant.timezone, row.ends_at) - clock.tenant_today(tenant, now)).days
    return {"subscription_id": row.id, "plan_name": row.plan_name, "ends_at": row.ends_at.isoformat(), "days": days}
