"""The overview's figures: today live from the tables, past days from DailyStat snapshots.

Each figure has a `*_query` that returns the SELECT, so the EXPLAIN test reads the same SQL the page runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    DailyStat,
    LedgerAccount,
    LedgerEntry,
    Member,
    Receipt,
    ReceiptStatus,
    Subscription,
    SubscriptionStatus,
    SubscriptionStatusCount,
    Tenant,
)
from app.services import clock, tickets

HISTORY_DAYS = 30
PURCHASE_KIND = "purchase"


@dataclass
class DayFigures:
    day: date
    revenue: int = 0
    balance_sales: int = 0
    new_members: int = 0
    traffic_sold_bytes: int = 0
    traffic_consumed_bytes: int = 0


def day_start_utc(tenant: Tenant, day: date) -> datetime:
    """The instant the tenant-local day begins."""
    return clock.day_bounds(tenant.timezone, day)[0]


def approved_revenue_query(tenant: Tenant, since: datetime) -> sa.Select:
    return sa.select(sa.func.coalesce(sa.func.sum(Receipt.amount), 0)).where(
        Receipt.tenant_id == tenant.id, Receipt.reviewed_at >= since,
        Receipt.status == ReceiptStatus.APPROVED.value)


def balance_sales_query(tenant: Tenant, since: datetime) -> sa.Select:
    return sa.select(sa.func.coalesce(-sa.func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.tenant_id == tenant.id, LedgerEntry.account == LedgerAccount.MEMBER_BALANCE.value,
        LedgerEntry.created_at >= since, LedgerEntry.kind == PURCHASE_KIND)


def new_members_query(tenant: Tenant, since: datetime) -> sa.Select:
    return sa.select(sa.func.count()).select_from(Member).where(
        Member.tenant_id == tenant.id, Member.created_at >= since)


def pending_receipts_query(tenant: Tenant) -> sa.Select:
    return sa.select(sa.func.count()).select_from(Receipt).where(
        Receipt.tenant_id == tenant.id, Receipt.status == ReceiptStatus.PENDING_REVIEW.value)


def active_subscriptions_query(tenant: Tenant) -> sa.Select:
    """Active subscriptions not past their end: the active total from the counts, minus those past their end
    that the expiry job (every 5 minutes) has not marked yet."""
    active = SubscriptionStatus.ACTIVE.value
    total = sa.select(sa.func.coalesce(sa.func.sum(SubscriptionStatusCount.subscriptions), 0)).where(
        SubscriptionStatusCount.tenant_id == tenant.id, SubscriptionStatusCount.status == active).scalar_subquery()
    ended = sa.select(sa.func.count()).select_from(Subscription).where(
        Subscription.tenant_id == tenant.id, Subscription.status == active,
        Subscription.ends_at <= clock.now()).scalar_subquery()
    return sa.select(sa.cast(total - ended, sa.BigInteger))


def overview_queries(tenant: Tenant) -> dict[str, sa.Select]:
    """Every query the overview page runs, by name (for the EXPLAIN test)."""
    since = day_start_utc(tenant, clock.tenant_today(tenant))
    return {
        "revenue_today": approved_revenue_query(tenant, since),
        "balance_sales_today": balance_sales_query(tenant, since),
        "new_members_today": new_members_query(tenant, since),
        "pending_receipts": pending_receipts_query(tenant),
        "active_subscriptions": active_subscriptions_query(tenant),
    }


def today_figures(tenant: Tenant) -> DayFigures:
    today = clock.tenant_today(tenant)
    since = day_start_utc(tenant, today)
    snapshot = db.session.scalar(sa.select(DailyStat).where(DailyStat.tenant_id == tenant.id, DailyStat.day == today))
    return DayFigures(
        day=today,
        revenue=db.session.scalar(approved_revenue_query(tenant, since)),
        balance_sales=db.session.scalar(balance_sales_query(tenant, since)),
        new_members=db.session.scalar(new_members_query(tenant, since)),
        traffic_sold_bytes=snapshot.traffic_sold_bytes if snapshot else 0,
        traffic_consumed_bytes=snapshot.traffic_consumed_bytes if snapshot else 0,
    )


def history(tenant: Tenant, days: int = HISTORY_DAYS) -> list[DayFigures]:
    """The last `days` tenant-local days, oldest first: snapshots for past days, live figures for today."""
    today = clock.tenant_today(tenant)
    first = today - timedelta(days=days - 1)
    snapshots = {s.day: s for s in db.session.scalars(sa.select(DailyStat).where(
        DailyStat.tenant_id == tenant.id, DailyStat.day >= first, DailyStat.day < today))}
    series = [_from_snapshot(first + timedelta(days=i), snapshots.get(first + timedelta(days=i)))
              for i in range(days - 1)]
    return series + [today_figures(tenant)]


def _from_snapshot(day: date, stat: DailyStat | None) -> DayFigures:
    if stat is None:
        return DayFigures(day=day)
    return DayFigures(day=day, revenue=stat.revenue, new_members=stat.new_members,
                      traffic_sold_bytes=stat.traffic_sold_bytes, traffic_consumed_bytes=stat.traffic_consumed_bytes)


def summary(tenant: Tenant) -> dict:
    """Everything the overview shows, in one dict."""
    days = history(tenant)
    return {
        "today": days[-1],
        "days": days,
        "revenue_30d": sum(d.revenue for d in days),
        "new_members_30d": sum(d.new_members for d in days),
        "pending_receipts": db.session.scalar(pending_receipts_query(tenant)),
        "active_subscriptions": db.session.scalar(active_subscriptions_query(tenant)),
        "wallet_balance": tenant.wallet_balance,
        "tickets_waiting": tickets.waiting_summary(tenant),
    }
