"""Experience points: the minimal part money needs (purchases earn XP); growth builds on it."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Member, Tenant

DEFAULT_XP_PER_10000_TOMAN = 1


def purchase_xp(tenant: Tenant, toman: int) -> int:
    """XP for spending `toman`: 1 per 10,000 Toman unless tenant.settings["xp_per_10000_toman"] says otherwise."""
    rate = (tenant.settings or {}).get("xp_per_10000_toman", DEFAULT_XP_PER_10000_TOMAN)
    return max(0, int(toman) * int(rate) // 10_000)


def add_xp(member: Member, points: int) -> None:
    """Add to the member's total and today's XP in one atomic UPDATE."""
    if points <= 0:
        return
    db.session.execute(
        sa.update(Member).where(Member.id == member.id, Member.tenant_id == member.tenant_id)
        .values(total_xp=Member.total_xp + points, xp_today=Member.xp_today + points),
        execution_options={"synchronize_session": False},
    )
    db.session.expire(member, ["total_xp", "xp_today"])
