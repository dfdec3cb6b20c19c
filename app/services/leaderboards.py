"""Leaderboards of a tenant by XP, read from the (tenant_id, total_xp, id) index; ties: newer first."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Member, Tenant


def top_members(tenant: Tenant, limit: int = 10) -> list[Member]:
    """The tenant's members with the most XP."""
    return list(db.session.scalars(
        sa.select(Member).where(Member.tenant_id == tenant.id)
        .order_by(Member.total_xp.desc(), Member.id.desc()).limit(limit)
    ))


def rank_of(member: Member) -> int:
    """1 for the member with the most XP in the tenant, in the same order as top_members."""
    ahead = db.session.scalar(sa.select(sa.func.count(Member.id)).where(
        Member.tenant_id == member.tenant_id,
        sa.or_(Member.total_xp > member.total_xp,
               sa.and_(Member.total_xp == member.total_xp, Member.id > member.id)),
    ))
    return ahead + 1
