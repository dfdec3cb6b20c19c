"""The figures behind the overview's charts, read set-based and per tenant.

Past days come from DailyStat snapshots (one row per tenant and day, so a 1M-member tenant costs the
same as a small one); today is counted live from the tables with the day-bounded queries below; the top
plans are summed from plan_sale_counts (kept by triggers on subscriptions), not counted from the window's sales.
Weeks and months are sums of days: a member who first bought on Monday and again on Wednesday counts
once as a new buyer and once as a returning one that week.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import jdatetime
import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import DailyStat, PaymentCard, Plan, PlanSaleCount, Subscription, SubscriptionSource, Tenant
from app.services import clock, overview, subscription_counts

GRAINS = ("day", "week", "month")
#: How many buckets each grain shows.
SPAN = {"day": 30, "week": 12, "month": 12}
#: Purchases paid with money (not promo codes or grants): what the buyers charts count.
PAID_SOURCES = (SubscriptionSource.BALANCE.value, SubscriptionSource.RECEIPT.value)
TOP_PLANS = 5
TOP_PLANS_DAYS = 30
SATURDAY, MONDAY = 5, 0


@dataclass
class Bucket:
    """One day, week or month: `start` is its first day."""

    start: date
    revenue: int = 0
    new_members: int = 0
    new_buyers: int = 0
    returning_buyers: int = 0

    def add(self, revenue: int, new_members: int, new_buyers: int, returning_buyers: int) -> None:
        self.revenue += revenue
        self.new_members += new_members
        self.new_buyers += new_buyers
        self.returning_buyers += returning_buyers


@dataclass
class CardLoad:
    label: str
    received_today: int
    daily_cap: int | None


def bucket_start(day: date, grain: str, calendar: str = "gregorian") -> date:
    """The first day of the day/week/month holding `day`; Jalali weeks start on Saturday, months on the 1st of a Jalali month."""
    if grain == "day":
        return day
    jalali = calendar == "jalali"
    if grain == "week":
        return day - timedelta(days=(day.weekday() - (SATURDAY if jalali else MONDAY)) % 7)
    if jalali:
        return jdatetime.date.fromgregorian(date=day).replace(day=1).togregorian()
    return day.replace(day=1)


def bucket_starts(today: date, grain: str, calendar: str = "gregorian") -> list[date]:
    """The SPAN[grain] bucket starts ending with today's, oldest first."""
    starts = [bucket_start(today, grain, calendar)]
    while len(starts) < SPAN[grain]:
        starts.append(bucket_start(starts[-1] - timedelta(days=1), grain, calendar))
    return starts[::-1]


def periods(tenant: Tenant, grain: str = "day", calendar: str = "gregorian",
            live: overview.DayFigures | None = None) -> list[Bucket]:
    """Revenue, new members and buyers per bucket, oldest first (today's bucket counts today live).

    `live`: today's figures when the caller has them already (the overview page), so they are not counted twice.
    """
    today = clock.tenant_today(tenant)
    buckets = [Bucket(start) for start in bucket_starts(today, grain, calendar)]
    index = {b.start: b for b in buckets}
    for row in db.session.execute(snapshots_query(tenant, buckets[0].start, today)):
        index[bucket_start(row.day, grain, calendar)].add(row.revenue, row.new_members, row.new_buyers,
                                                          row.returning_buyers)
    live = live if live is not None and live.day == today else overview.today_figures(tenant)
    buyers = today_buyers(tenant)
    buckets[-1].add(live.revenue, live.new_members, *buyers)
    return buckets


def snapshots_query(tenant: Tenant, first: date, today: date) -> sa.Select:
    return sa.select(DailyStat.day, DailyStat.revenue, DailyStat.new_members, DailyStat.new_buyers,
                     DailyStat.returning_buyers).where(
        DailyStat.tenant_id == tenant.id, DailyStat.day >= first, DailyStat.day < today)


def today_buyers(tenant: Tenant) -> tuple[int, int]:
    start, end = clock.day_bounds(tenant.timezone, clock.tenant_today(tenant))
    return buyers(tenant.id, start, end)


def buyers(tenant_id: int, start: datetime, end: datetime) -> tuple[int, int]:
    """(new, returning) members who bought in [start, end) (buyers_query), by the statement built once."""
    new, returning = db.session.execute(_BUYERS, {"buyers_tenant_id": tenant_id, "buyers_start": start,
                                                  "buyers_end": end}).one()
    return new, returning


def buyers_query(tenant_id: int, start: datetime, end: datetime) -> sa.Select:
    """(new, returning) members who bought in [start, end): new ones had no paid purchase before `start`."""
    return _BUYERS.params(buyers_tenant_id=tenant_id, buyers_start=start, buyers_end=end)


def _buyers_statement() -> sa.Select:
    """buyers_query with bound parameters (buyers_tenant_id, buyers_start, buyers_end): built once, as building
    it (an aliased entity) cost more than running it in every stats snapshot."""
    tenant_id, start = sa.bindparam("buyers_tenant_id"), sa.bindparam("buyers_start")
    bought = (sa.select(Subscription.member_id)
              .where(Subscription.tenant_id == tenant_id, Subscription.created_at >= start,
                     Subscription.created_at < sa.bindparam("buyers_end"), Subscription.source.in_(PAID_SOURCES))
              .group_by(Subscription.member_id).subquery())
    earlier = aliased(Subscription)
    bought_before = sa.exists().where(earlier.tenant_id == tenant_id, earlier.member_id == bought.c.member_id,
                                      earlier.created_at < start, earlier.source.in_(PAID_SOURCES))
    return sa.select(sa.func.count().filter(~bought_before), sa.func.count().filter(bought_before)) \
        .select_from(bought)


_BUYERS = _buyers_statement()


def top_plans_query(tenant: Tenant, since: datetime) -> sa.Select:
    """Paid subscriptions created since `since` (a slot's start: a local midnight), by plan, from the counts."""
    sold = sa.func.sum(PlanSaleCount.sold).label("sold")
    return (sa.select(Plan.name, sold).join(Plan, Plan.id == PlanSaleCount.plan_id)
            .where(PlanSaleCount.tenant_id == tenant.id, PlanSaleCount.slot >= subscription_counts.slot_of(since),
                   PlanSaleCount.source.in_(PAID_SOURCES))
            .group_by(Plan.id, Plan.name).having(sold > 0).order_by(sold.desc(), Plan.name))


def top_plans_since(tenant: Tenant) -> datetime:
    """Where the top-plans window starts: the local midnight TOP_PLANS_DAYS - 1 days before today's."""
    return overview.day_start_utc(tenant, clock.tenant_today(tenant) - timedelta(days=TOP_PLANS_DAYS - 1))


def top_plans(tenant: Tenant) -> list[tuple[str, int]]:
    """The best-selling plans of the last TOP_PLANS_DAYS days: (name, purchases), most sold first."""
    # One row per plan sold (a tenant has a handful), so the top ones are cut here, not by a LIMIT.
    rows = db.session.execute(top_plans_query(tenant, top_plans_since(tenant)))
    return [(name, int(sold)) for name, sold in rows][:TOP_PLANS]


def card_loads(tenant: Tenant) -> list[CardLoad]:
    """Each active card's approved Toman today against its daily cap."""
    today = clock.tenant_today(tenant)
    received = sa.case((PaymentCard.received_day == today, PaymentCard.received_today), else_=0)
    rows = db.session.execute(sa.select(PaymentCard.bank_name, PaymentCard.card_number, received, PaymentCard.daily_cap)
                              .where(PaymentCard.tenant_id == tenant.id, PaymentCard.is_active)
                              .order_by(PaymentCard.id))
    return [CardLoad(f"{bank} ·{number[-4:]}", int(got), cap) for bank, number, got, cap in rows]


def chart_queries(tenant: Tenant) -> dict[str, sa.Select]:
    """The chart queries that read the big tables, by name (for the EXPLAIN test)."""
    today = clock.tenant_today(tenant)
    start, end = clock.day_bounds(tenant.timezone, today)
    return {"buyers_today": buyers_query(tenant.id, start, end),
            "top_plans": top_plans_query(tenant, top_plans_since(tenant)),
            "snapshots_year": snapshots_query(tenant, today - timedelta(days=372), today)}
