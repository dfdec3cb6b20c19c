"""Leaderboards: all-time (total_xp) and today (xp_today), read from the members' XP indexes.

Order: XP descending, then id descending, so ties are stable. Both queries walk the indexes
(tenant_id, total_xp, id) and (tenant_id, xp_today, id): the top N is a backward index scan that stops
after N rows, and a rank is 1 + the number of index entries ahead of the member.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.models import Member, Tenant
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


def top_query(tenant_id: int, period: str, limit: int) -> sa.Select:
    """The SELECT behind top(): members with some XP in the period, best first."""
    column = xp_column(period)
    return (sa.select(Member).where(Member.tenant_id == tenant_id, column > 0)
            .order_by(column.desc(), Member.id.desc()).limit(limit))


def rank_query(member: Member, period: str) -> sa.Select:
    """The SELECT behind rank_of(): how many members are ahead of this one.

    The inner ORDER BY ... LIMIT follows the index, which keeps Postgres on it even for a member near
    the bottom, where most of the tenant is ahead and a sequential scan would otherwise look cheaper.
    """
    column = xp_column(period)
    ahead = sa.tuple_(column, Member.id) > sa.tuple_(sa.literal(getattr(member, column.key)),
                                                      sa.literal(member.id))
    entries = (sa.select(Member.id).where(Member.tenant_id == member.tenant_id, ahead)
               .order_by(column, Member.id).limit(MAX_RANK_COUNT).subquery())
    return sa.select(sa.func.count()).select_from(entries)


def top(tenant: Tenant, *, period: str = "all", limit: int = 10) -> list[Standing]:
    """The best `limit` members (at most 100) of the period; members without XP are left out."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    members = db.session.scalars(top_query(tenant.id, period, limit)).all()
    column = xp_column(period).key
    return [Standing(rank, m.id, m.display_name, getattr(m, column), m.level)
            for rank, m in enumerate(members, start=1)]


def rank_of(member: Member, *, period: str = "all") -> int:
    """1 + the members ahead: more XP, or as much XP and a greater id."""
    return 1 + db.session.scalar(rank_query(member, period))
