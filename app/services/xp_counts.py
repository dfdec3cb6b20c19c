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

#: total_xp >> COARSE_SHIFT is a level-2 bucket; member id >> BLOCK_SHIFT is a level-0 id block.
COARSE_SHIFT = 8
BLOCK_SHIFT = 10
#: pg_try_advisory_xact_lock(LOCK_CLASS, tenant id): one compaction per tenant at a time.
LOCK_CLASS = 0x58C0


def ahead_query(tenant_id: int, xp: int, member_id: int) -> sa.Select:
    """How many members of the tenant rank ahead of (xp, member_id): more XP, or as much and a greater id."""
    c = MemberXpCount
    coarse, block = xp >> COARSE_SHIFT, member_id >> BLOCK_SHIFT

    def total(*where):
        return sa.select(sa.func.coalesce(sa.func.sum(c.members), 0)).where(c.tenant_id == tenant_id, *where) \
            .scalar_subquery()

    ties_in_block = sa.select(sa.func.count()).select_from(Member).where(
        Member.tenant_id == tenant_id, Member.total_xp == xp, Member.id > member_id,
        Member.id < (block + 1) << BLOCK_SHIFT).scalar_subquery()
    return sa.select(
        total(c.level == 2, c.total_xp > coarse)
        + total(c.level == 1, c.total_xp > xp, c.total_xp < (coarse + 1) << COARSE_SHIFT)
        + total(c.level == 0, c.total_xp == xp, c.id_block > block)
        + ties_in_block)


PG_COMPACT = """
WITH keys AS (SELECT DISTINCT level, total_xp, id_block FROM member_xp_counts WHERE tenant_id = :t AND fresh),
gone AS (DELETE FROM member_xp_counts c USING keys k
         WHERE c.tenant_id = :t AND c.level = k.level AND c.total_xp = k.total_xp AND c.id_block = k.id_block
         RETURNING c.level, c.total_xp, c.id_block, c.members)
INSERT INTO member_xp_counts (tenant_id, level, total_xp, id_block, members, fresh)
SELECT :t, level, total_xp, id_block, SUM(members), false FROM gone
GROUP BY level, total_xp, id_block HAVING SUM(members) <> 0
"""

SQLITE_KEYS = ("(level, total_xp, id_block) IN (SELECT level, total_xp, id_block FROM member_xp_counts "
               "WHERE tenant_id = :t AND fresh AND id <= :m)")


def compact(tenant_id: int) -> int:
    """Fold the tenant's delta rows into one row per key (a key summing to 0 goes); returns rows written.

    Postgres: one statement (DELETE ... RETURNING feeds the INSERT, so a row committed meanwhile by an XP
    award is either folded or left for next time, never lost), under a per-tenant advisory lock that is
    tried, not waited for. SQLite runs one writer at a time: an INSERT of the sums, then a DELETE, bounded
    by the largest id seen.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        if not db.session.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(LOCK_CLASS, tenant_id))):
            return 0
        return max(db.session.execute(sa.text(PG_COMPACT), {"t": tenant_id}).rowcount or 0, 0)
    last = db.session.scalar(sa.select(sa.func.max(MemberXpCount.id)).where(MemberXpCount.tenant_id == tenant_id))
    if last is None:
        return 0
    params = {"t": tenant_id, "m": last}
    written = db.session.execute(sa.text(
        "INSERT INTO member_xp_counts (tenant_id, level, total_xp, id_block, members, fresh) "
        "SELECT :t, level, total_xp, id_block, SUM(members), 0 FROM member_xp_counts "
        f"WHERE tenant_id = :t AND id <= :m AND {SQLITE_KEYS} "
        "GROUP BY level, total_xp, id_block HAVING SUM(members) <> 0"), params).rowcount
    db.session.execute(sa.text(f"DELETE FROM member_xp_counts WHERE tenant_id = :t AND id <= :m AND {SQLITE_KEYS}"),
                       params)
    return max(written or 0, 0)


def compact_tenant(tenant, now=None) -> int:
    """The scheduled job's step (app/scheduler.py)."""
    return compact(tenant.id)
