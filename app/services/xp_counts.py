"""Members per XP total (table member_xp_counts): an exact all-time rank without counting the members ahead.

The table is written by triggers on `members` (migration 0042), in the same transaction as every change of
total_xp, whoever makes it (xp.add_xp/award_locked, imports, merges, deletes). The triggers only append delta
rows, so XP awards never lock each other here; `compact` (a scheduled job, and cheap to call any time) folds
them into one row per key. Reads are exact whether or not compaction has run.

rank = 1 + members with more XP + members with as much XP and a greater id, read as
  SUM(level 2: coarse buckets above the member's, ≤ max XP / 256 rows)
+ SUM(level 1: exact totals above it inside its coarse bucket, ≤ 256 rows)
+ SUM(level 0: equal XP, id blocks above its block, ≤ members / 1024 rows)
+ COUNT(members with equal XP and a greater id inside its own id block, ≤ 1024 index entries of
  ix_members_tenant_total_xp).
"""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Member, MemberXpCount
from app.services import delta_counts

#: total_xp >> COARSE_SHIFT is a level-2 bucket; member id >> BLOCK_SHIFT is a level-0 id block.
COARSE_SHIFT = 8
BLOCK_SHIFT = 10


def _members_where(*where) -> sa.ScalarSelect:
    c = MemberXpCount
    return sa.select(sa.func.coalesce(sa.func.sum(c.members), 0)).where(
        c.tenant_id == sa.bindparam("tenant_id"), *where).scalar_subquery()


#: How many members of a tenant rank ahead of (xp, member id): more XP, or as much and a greater id. Built once
#: with bound parameters (see `ahead_params`): building this SELECT takes more CPU than Postgres takes to run it,
#: and a member's profile asks for it every time.
AHEAD = sa.select(
    _members_where(MemberXpCount.level == 2, MemberXpCount.total_xp > sa.bindparam("coarse"))
    + _members_where(MemberXpCount.level == 1, MemberXpCount.total_xp > sa.bindparam("xp"),
                     MemberXpCount.total_xp < sa.bindparam("coarse_end"))
    + _members_where(MemberXpCount.level == 0, MemberXpCount.total_xp == sa.bindparam("xp"),
                     MemberXpCount.id_block > sa.bindparam("block"))
    + sa.select(sa.func.count()).select_from(Member).where(
        Member.tenant_id == sa.bindparam("tenant_id"), Member.total_xp == sa.bindparam("xp"),
        Member.id > sa.bindparam("member_id"), Member.id < sa.bindparam("block_end")).scalar_subquery())


def ahead_params(tenant_id: int, xp: int, member_id: int) -> dict[str, int]:
    """AHEAD's parameters for (xp, member_id): its coarse bucket and id block, and where they end."""
    coarse, block = xp >> COARSE_SHIFT, member_id >> BLOCK_SHIFT
    return {"tenant_id": tenant_id, "xp": xp, "member_id": member_id, "coarse": coarse,
            "coarse_end": (coarse + 1) << COARSE_SHIFT, "block": block, "block_end": (block + 1) << BLOCK_SHIFT}


def ahead_count(tenant_id: int, xp: int, member_id: int) -> int:
    """How many members of the tenant rank ahead of (xp, member_id)."""
    return db.session.scalar(AHEAD, ahead_params(tenant_id, xp, member_id))


def ahead_query(tenant_id: int, xp: int, member_id: int) -> sa.Select:
    """AHEAD with its values bound, as one statement (to EXPLAIN or print); `ahead_count` runs it."""
    return AHEAD.params(**ahead_params(tenant_id, xp, member_id))


#: The table's delta rows, folded by `compact`.
TABLE = delta_counts.DeltaTable("member_xp_counts", ("level", "total_xp", "id_block"), "members", lock_class=0x58C0)


def compact(tenant_id: int) -> int:
    """Fold the tenant's delta rows into one row per key (a key summing to 0 goes); returns rows written."""
    return delta_counts.compact(TABLE, tenant_id)


def compact_tenant(tenant, now=None) -> int:
    """The scheduled job's step (app/scheduler.py)."""
    return compact(tenant.id)
