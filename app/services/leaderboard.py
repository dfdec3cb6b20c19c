"""Leaderboards: all-time (total_xp) and today (xp_today on xp_today_day), read from the members' XP indexes.

Order: XP descending, then id descending, so ties are stable. Both queries walk the indexes
(tenant_id, total_xp, id) and (tenant_id, xp_today_day, xp_today, id): the top N is a backward index scan
that stops after N rows. The all-time rank is a sum over member_xp_counts (app/services/xp_counts.py: a few
hundred rows and at most 1,024 index entries, whatever the tenant's size); today's rank is 1 + the number
of index entries ahead of the member (today's scorers only).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app.extensions import db
from app.models import Member, Tenant
from app.services import clock, xp_counts
from app.services.errors import ValidationFailed

PERIODS = ("all", "today")
MAX_LIMIT = 100
#: More members than any tenant has; the LIMIT only steers the planner (see rank_query).
MAX_RANK_COUNT = 100_000_000


@dataclass(frozen=True)
class Standing:
    rank: int
    member_id: int
    display_name: str
    xp: int
    level: int


def xp_column(period: str):
    """The Member column a period ranks by."""
    if period not in PERIODS:
        raise ValidationFailed(f"Unknown leaderboard period {period!r}; use one of {', '.join(PERIODS)}.")
    return Member.total_xp if period == "all" else Member.xp_today


def top_query(tenant_id: int, period: str, limit: int, *, day: date | None = None) -> sa.Select:
    """The SELECT behind top(): members with some XP in the period, best first.

    Today's XP counts only on its day (`day`, the tenant's today by default): nothing zeroes it at midnight.
    """
    column = xp_column(period)
    query = sa.select(Member).where(Member.tenant_id == tenant_id, column > 0)
    if period == "today":
        query = query.where(Member.xp_today_day == (day or _today(tenant_id)))
    return query.order_by(column.desc(), Member.id.desc()).limit(limit)


def _today(tenant_id: int) -> date:
    return clock.tenant_today(db.session.get(Tenant, tenant_id))


def xp_in(member: Member, period: str, day: date | None = None) -> int:
    """The member's XP of the period: today's reads 0 unless it was counted today."""
    if period == "all":
        return member.total_xp
    return member.xp_today if member.xp_today_day == (day or _today(member.tenant_id)) else 0


def _count(query: sa.Select) -> sa.ScalarSelect:
    """count(*) of a query's rows; the ORDER BY ... LIMIT keeps Postgres on the index for any count."""
    return sa.select(sa.func.count()).select_from(query.limit(MAX_RANK_COUNT).subquery()).scalar_subquery()


def rank_query(member: Member, period: str, day: date | None = None) -> sa.Select:
    """The SELECT behind rank_of(): how many members are ahead of this one.

    The inner ORDER BY ... LIMIT follows the index, which keeps Postgres on it even for a member near
    the bottom, where most of the tenant is ahead and a sequential scan would otherwise look cheaper.
    Today's board: ahead are today's scorers with more XP (or as much and a greater id); a member without
    XP today is behind every scorer and, among the rest, behind those with a greater id.
    """
    column, xp = xp_column(period), xp_in(member, period, day)
    if period == "all":
        return xp_counts.ahead_query(member.tenant_id, xp, member.id)
    tenant = Member.tenant_id == member.tenant_id
    in_period = [Member.xp_today_day == (day or _today(member.tenant_id))] if period == "today" else []
    if xp > 0:
        ahead = sa.tuple_(column, Member.id) > sa.tuple_(sa.literal(xp), sa.literal(member.id))
        return sa.select(_count(sa.select(Member.id).where(tenant, *in_period, ahead).order_by(column, Member.id)))
    scorers = [*in_period, column > 0]
    newer = Member.id > member.id
    return sa.select(
        _count(sa.select(Member.id).where(tenant, *scorers).order_by(column, Member.id))
        + _count(sa.select(Member.id).where(tenant, newer).order_by(Member.id))
        - _count(sa.select(Member.id).where(tenant, *scorers, newer).order_by(column, Member.id)))


def top(tenant: Tenant, *, period: str = "all", limit: int = 10) -> list[Standing]:
    """The best `limit` members (at most 100) of the period; members without XP are left out."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    members = db.session.scalars(top_query(tenant.id, period, limit, day=clock.tenant_today(tenant))).all()
    column = xp_column(period).key
    return [Standing(rank, m.id, m.display_name, getattr(m, column), m.level)
            for rank, m in enumerate(members, start=1)]


def rank_of(member: Member, *, period: str = "all") -> int:
    """1 + the members ahead: more XP, or as much XP and a greater id."""
    if period == "all":  # rank_query's statement, run without building it again
        return 1 + xp_counts.ahead_count(member.tenant_id, member.total_xp, member.id)
    return 1 + db.session.scalar(rank_query(member, period))
