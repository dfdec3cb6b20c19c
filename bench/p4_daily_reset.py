"""P4: the daily reset of the big tenant, against a per-row loop (the baseline), in the same run.

The reset runs as the job does (claim the day, snapshot yesterday, reset, audit), inside a transaction that
is rolled back afterwards so the 3 timed runs see the same data. The baseline zeroes yesterday's counters
one row at a time on the small tenant and is scaled to the big tenant's row count (rows/ms is constant for
a per-row loop; running it on a million rows would take minutes and say nothing more).
"""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bench import common

GOAL = common.Goal(max_value=2000, max_ratio=0.01)


def reset_ms(tenant_id: int) -> float:
    from app.extensions import db
    from app.jobs.daily_reset import reset_due_tenant
    from app.models import Tenant

    def once():
        tenant = db.session.get(Tenant, tenant_id)
        tenant.last_daily_reset_day = tenant.last_daily_reset_day - timedelta(days=1)
        db.session.flush()
        reset_due_tenant(tenant, datetime.now(UTC))
        db.session.flush()
        db.session.rollback()
    return common.median_ms(once)


def stale_rows(tenant_id: int) -> int:
    """Counter rows a reset by rewriting would touch: members and sessions counted on an earlier day."""
    from app.extensions import db
    from app.models import BotSession, Member
    from app.services import clock

    today = clock.local_day("Asia/Tehran", datetime.now(UTC))
    members = db.session.scalar(sa.select(sa.func.count()).select_from(Member).where(
        Member.tenant_id == tenant_id, Member.xp_today != 0, Member.xp_today_day < today))
    sessions = db.session.scalar(sa.select(sa.func.count()).select_from(BotSession).where(
        BotSession.tenant_id == tenant_id, BotSession.daily_requests != 0, BotSession.daily_requests_day < today))
    return members + sessions


def per_row_loop_ms_per_row(tenant_id: int) -> float:
    """Zero each stale counter with its own UPDATE (what a naive job does); ms per row, rolled back."""
    from app.extensions import db

    rows = db.session.execute(sa.text(
        "SELECT 'members', id FROM members WHERE tenant_id = :t AND xp_today <> 0 "
        "UNION ALL SELECT 'bot_sessions', id FROM bot_sessions WHERE tenant_id = :t AND daily_requests <> 0"),
        {"t": tenant_id}).all()
    start = time.perf_counter()
    for table, row_id in rows:
        column = "xp_today" if table == "members" else "daily_requests"
        db.session.execute(sa.text(f"UPDATE {table} SET {column} = 0 WHERE id = :id"), {"id": row_id})
    elapsed = (time.perf_counter() - start) * 1000
    db.session.rollback()
    return elapsed / max(1, len(rows))


def run(app, world) -> list[common.Result]:
    per_row = per_row_loop_ms_per_row(world.small_tenant_id)
    rows = stale_rows(world.big_tenant_id)
    return [common.report(common.Result(
        "P4.daily_reset", f"daily reset of the big tenant ({rows:,} counters from yesterday)",
        reset_ms(world.big_tenant_id), "ms", per_row * rows, "per-row loop, scaled", GOAL, world.big_members,
        note="ratio ≤ 0.01 means ≥ 100× faster than the loop"))]


def main() -> None:
    args = common.parser(__doc__.splitlines()[0]).parse_args()
    with common.seeded_app(args) as (app, world):
        print(common.TABLE_HEADER)
        run(app, world)


if __name__ == "__main__":
    main()
