"""DailyStat snapshots, pruning, and the declared job list's wiring."""
from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta, timezone

import sqlalchemy as sa

from app import scheduler
from app.jobs.runner import for_each_tenant, run_in_context
from app.models import DailyStat, ProcessedUpdate, Receipt, Tenant
from app.services import clock

# 10:00 on 1 March in Tehran.
NOW = datetime(2026, 3, 1, 6, 30, tzinfo=UTC)
TODAY = date(2026, 3, 1)


def _decided(make, db, tenant, status, amount, reviewed_at):
    member = make.member(tenant)
    db.session.add(Receipt(tenant_id=tenant.id, member_id=member.id, purpose="topup", amount=amount,
                           tracking_code=f"C2C-S{member.id:05d}", status=status, created_at=reviewed_at,
                           expires_at=reviewed_at + timedelta(days=1), reviewed_at=reviewed_at))
    db.session.commit()


def _stat(db, tenant, day) -> DailyStat:
    return db.session.scalars(sa.select(DailyStat).where(DailyStat.tenant_id == tenant.id,
                                                         DailyStat.day == day)).one()


def test_snapshot_counts_the_tenants_local_day_and_upserts(make, db, run_job):
    tenant, other = make.tenant(timezone="Asia/Tehran"), make.tenant()
    _decided(make, db, tenant, "approved", 300_000, NOW - timedelta(hours=2))
    _decided(make, db, tenant, "approved", 200_000, NOW - timedelta(hours=11))    # 23:00 yesterday in Tehran
    _decided(make, db, tenant, "rejected", 50_000, NOW - timedelta(hours=1))
    _decided(make, db, other, "approved", 999_000, NOW - timedelta(hours=1))
    tenant.traffic_sold_bytes, tenant.traffic_consumed_bytes = 10_000, 4_000
    db.session.commit()

    run_job("daily_stats", at=NOW)
    stat = _stat(db, tenant, TODAY)
    assert (stat.revenue, stat.approvals, stat.rejections) == (300_000, 1, 1)
    assert (stat.traffic_sold_bytes, stat.traffic_consumed_bytes) == (10_000, 4_000)

    db.session.get(Tenant, tenant.id).traffic_sold_bytes = 15_000
    db.session.commit()
    run_job("daily_stats", at=NOW + timedelta(minutes=10))
    assert _stat(db, tenant, TODAY).traffic_sold_bytes == 15_000
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DailyStat).where(
        DailyStat.tenant_id == tenant.id)) == 1


def test_traffic_per_day_is_what_grew_since_the_earlier_days(make, db, run_job):
    tenant = make.tenant(timezone="Asia/Tehran")
    tenant.last_daily_reset_day, tenant.traffic_sold_bytes = TODAY, 7_000
    db.session.commit()
    run_job("daily_stats", at=NOW)
    db.session.get(Tenant, tenant.id).traffic_sold_bytes = 9_500
    db.session.commit()
    run_job("daily_reset", at=NOW + timedelta(days=1))      # finalizes 1 March, starts 2 March
    run_job("daily_stats", at=NOW + timedelta(days=1))
    assert _stat(db, tenant, TODAY).traffic_sold_bytes == 9_500
    assert _stat(db, tenant, TODAY + timedelta(days=1)).traffic_sold_bytes == 0


def test_processed_updates_older_than_48_hours_are_pruned(make, db, run_job):
    bot = make.bot(make.tenant())
    db.session.add_all([ProcessedUpdate(bot_id=bot.id, update_id=1, processed_at=NOW - timedelta(hours=49)),
                        ProcessedUpdate(bot_id=bot.id, update_id=2, processed_at=NOW - timedelta(hours=47))])
    db.session.commit()
    run_job("prune_processed_updates", at=NOW)
    assert db.session.scalars(sa.select(ProcessedUpdate.update_id)).all() == [2]


def test_every_declared_job_is_registered_once_with_safe_defaults(app):
    sched = scheduler.build_scheduler(app)
    sched.start(paused=True)
    try:
        for declared in scheduler.JOBS:
            scheduler.register(sched, app, declared)        # a second registration replaces
        jobs = sched.get_jobs()
    finally:
        sched.shutdown(wait=False)
    assert sorted(job.id for job in jobs) == sorted(j.id for j in scheduler.JOBS)
    assert all(job.coalesce and job.max_instances == 1 for job in jobs)


def test_a_failing_tenant_is_rolled_back_and_the_others_still_run(make, db, caplog):
    first, second = make.tenant(), make.tenant()
    done = []

    def step(tenant, now):
        tenant.card_rotation_minutes = 7
        if tenant.id == first.id:
            raise RuntimeError("boom")
        done.append(tenant.id)

    with caplog.at_level(logging.ERROR):
        assert for_each_tenant(step, clock.now()) == 1
    db.session.expire_all()
    assert done == [second.id]
    assert db.session.get(Tenant, first.id).card_rotation_minutes != 7
    assert db.session.get(Tenant, second.id).card_rotation_minutes == 7
    assert "failed for tenant" in caplog.text


def test_a_failing_job_is_logged_and_leaves_nothing_behind(app, make, db, caplog):
    tenant = make.tenant()

    def work(now):
        db.session.get(Tenant, tenant.id).name = "half-done"
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR):
        run_in_context(app, "broken", work)
    db.session.expire_all()
    assert db.session.get(Tenant, tenant.id).name != "half-done"
    assert "job broken failed" in caplog.text
