"""The weekly top-10 badge job: declared with the others, per tenant, and safe to run twice."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import sqlalchemy as sa

from app import scheduler
from app.models import MemberBadge

NOW = datetime(2026, 3, 6, 20, 35, tzinfo=UTC)   # Saturday 7 March, 00:05 in Tehran


def _holders(db, tenant) -> set[int]:
    return set(db.session.scalars(sa.select(MemberBadge.member_id).where(
        MemberBadge.tenant_id == tenant.id, MemberBadge.badge_code == "top10_week")))


def test_the_top_ten_of_each_tenant_get_the_badge_once(make, db, run_job):
    tenant, other = make.tenant(), make.tenant()
    ranked = [make.member(tenant, total_xp=100 + n) for n in range(12)]
    outsider = make.member(other, total_xp=5)
    db.session.commit()

    run_job("weekly_top10", at=NOW)
    assert _holders(db, tenant) == {m.id for m in ranked[2:]}
    assert _holders(db, other) == {outsider.id}

    run_job("weekly_top10", at=NOW + timedelta(minutes=1))      # a rerun changes nothing
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MemberBadge).where(
        MemberBadge.tenant_id == tenant.id)) == 10


def test_the_badge_job_runs_weekly_on_saturday_in_tehran():
    trigger = scheduler.job("weekly_top10").trigger
    first = trigger.get_next_fire_time(None, NOW - timedelta(days=1))
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    assert first == NOW
    assert second - first == timedelta(days=7)
