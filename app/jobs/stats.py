"""DailyStat snapshots: one row per tenant and local day, upserted, read by the dashboard charts.

Revenue is the Toman received: approved receipts, by the day they were approved. Traffic sold and
consumed are the growth of the tenant's running counters since the earlier snapshots, so the rows of
a tenant always add up to its counters.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from app.extensions import db
from app.models import DailyStat, Member, Receipt, ReceiptStatus, Tenant
from app.services import clock, sales_charts, visit_counts


def snapshot_today(tenant: Tenant, now: datetime) -> None:
    """Upsert today's figures for `tenant` (a job step)."""
    snapshot_day(tenant, clock.local_day(tenant.timezone, now), now)


def snapshot_day(tenant: Tenant, day: date, now: datetime) -> None:
    """Upsert the figures of the tenant-local `day`."""
    start, end = clock.day_bounds(tenant.timezone, day)
    values = {**_receipt_figures(tenant.id, start, end), **_member_figures(tenant.id, day, start, end),
              **buyer_figures(tenant.id, start, end), **_traffic_figures(tenant, day)}
    upsert(tenant.id, day, values)


def upsert(tenant_id: int, day: date, values: dict) -> None:
    """Insert or update the (tenant, day) row in one statement."""
    db.session.execute(_upsert_of(tuple(values)), {"tenant_id": tenant_id, "day": day, "created_at": clock.now(),
                                                   **values})


_upserts: dict = {}


def _upsert_of(figures: tuple[str, ...]) -> sa.TextClause:
    """The upsert of these figures, as text that SQLite and Postgres both read: SQLAlchemy never caches the
    compiled SQL of its dialect INSERTs with ON CONFLICT (see sessions._insert_session), so the daily reset and
    every 10-minute snapshot compiled it anew. Built once per set of figures."""
    cached = _upserts.get(figures)
    if cached is None:
        columns = ", ".join(figures)
        cached = _upserts[figures] = sa.text(
            f"INSERT INTO daily_stats (tenant_id, day, created_at, {columns}) "
            f"VALUES (:tenant_id, :day, :created_at, {', '.join(':' + f for f in figures)}) "
            f"ON CONFLICT (tenant_id, day) DO UPDATE SET {', '.join(f'{f} = excluded.{f}' for f in figures)}"
        ).bindparams(sa.bindparam("day", type_=sa.Date),
                     sa.bindparam("created_at", type_=DailyStat.__table__.c.created_at.type))
    return cached


def _receipt_figures(tenant_id: int, start: datetime, end: datetime) -> dict:
    approved = Receipt.status == ReceiptStatus.APPROVED.value
    rejected = Receipt.status == ReceiptStatus.REJECTED.value
    row = db.session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(sa.case((approved, Receipt.amount), else_=0)), 0),
            sa.func.count().filter(approved),
            sa.func.count().filter(rejected),
        ).where(Receipt.tenant_id == tenant_id, Receipt.reviewed_at >= start, Receipt.reviewed_at < end)
    ).one()
    return {"revenue": int(row[0]), "approvals": row[1], "rejections": row[2]}


def _member_figures(tenant_id: int, day: date, start: datetime, end: datetime) -> dict:
    """Members who joined in [start, end), and members who visited on `day` (member_visit_counts, kept by the
    first visit of each day: a sum of a few rows whatever the tenant's size, and exact for a past day too)."""
    new = (sa.select(sa.func.count()).select_from(Member)
           .where(Member.tenant_id == tenant_id, Member.created_at >= start, Member.created_at < end).scalar_subquery())
    row = db.session.execute(sa.select(new, visit_counts.active_members_query(tenant_id, day))).one()
    return {"new_members": row[0], "active_members": int(row[1])}


def buyer_figures(tenant_id: int, start: datetime, end: datetime) -> dict:
    """Members who bought in [start, end): new (no paid purchase before `start`) and returning."""
    new, returning = sales_charts.buyers(tenant_id, start, end)
    return {"new_buyers": new, "returning_buyers": returning}


def _traffic_figures(tenant: Tenant, day: date) -> dict:
    """The counters' growth since the earlier days' rows: both read in one statement."""
    def earlier(column):
        return (sa.select(sa.func.coalesce(sa.func.sum(column), 0))
                .where(DailyStat.tenant_id == tenant.id, DailyStat.day < day).scalar_subquery())
    row = db.session.execute(
        sa.select(Tenant.traffic_sold_bytes, Tenant.traffic_consumed_bytes,
                  earlier(DailyStat.traffic_sold_bytes), earlier(DailyStat.traffic_consumed_bytes))
        .where(Tenant.id == tenant.id)
    ).one()
    return {"traffic_sold_bytes": max(0, row[0] - int(row[2])),
            "traffic_consumed_bytes": max(0, row[1] - int(row[3]))}
