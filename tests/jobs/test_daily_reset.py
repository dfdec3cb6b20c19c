"""The daily reset: at each tenant's local midnight, once, and caught up after downtime.

The per-day counters carry their day and read as 0 on any other day, so the reset rewrites nothing:
these tests read the counters as the services do (counted on the tenant's day at that instant).
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timezone

import sqlalchemy as sa

from app.models import AuditLog, BotSession, Member, PaymentCard, Tenant
from app.services import clock


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _busy_tenant(make, db, tz, reset_day):
    tenant = make.tenant(timezone=tz)
    tenant.last_daily_reset_day = reset_day
    member = make.member(tenant)
    member.xp_today, member.xp_today_day = 40, reset_day
    bot = make.bot(tenant)
    db.session.add(BotSession(tenant_id=tenant.id, member_id=member.id, bot_id=bot.id,
                              daily_requests=9, daily_requests_day=reset_day))
    make.card(tenant, received_today=500_000, received_day=reset_day)
    db.session.commit()
    return tenant


def _counters(db, tenant, at: datetime):
    """XP today, requests today and Toman received today of the tenant, as read at the instant `at`."""
    day = clock.local_day(tenant.timezone, at)

    def total(counter, day_column, model):
        return db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(counter), 0)).where(
            model.tenant_id == tenant.id, day_column == day))
    return (total(Member.xp_today, Member.xp_today_day, Member),
            total(BotSession.daily_requests, BotSession.daily_requests_day, BotSession),
            total(PaymentCard.received_today, PaymentCard.received_day, PaymentCard))


def _resets(db, tenant) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
        AuditLog.tenant_id == tenant.id, AuditLog.action == "jobs.daily_reset"))


def test_each_tenant_resets_at_its_own_local_midnight(make, db, run_job):
    day = date(2026, 1, 14)
    tehran = _busy_tenant(make, db, "Asia/Tehran", day)          # UTC+3:30
    new_york = _busy_tenant(make, db, "America/New_York", day)   # UTC-5 in January

    run_job("daily_reset", at=utc(2026, 1, 14, 20, 29))          # 23:59 in Tehran
    assert _counters(db, tehran, utc(2026, 1, 14, 20, 29)) == (40, 9, 500_000)

    run_job("daily_reset", at=utc(2026, 1, 14, 20, 30, 2))       # 00:00:02 in Tehran
    assert _counters(db, tehran, utc(2026, 1, 14, 20, 30, 2)) == (0, 0, 0)
    assert db.session.get(Tenant, tehran.id).last_daily_reset_day == date(2026, 1, 15)
    assert _counters(db, new_york, utc(2026, 1, 14, 20, 30, 2)) == (40, 9, 500_000)           # still 15:30 on the 14th there

    run_job("daily_reset", at=utc(2026, 1, 15, 4, 59))           # 23:59 in New York
    assert _counters(db, new_york, utc(2026, 1, 15, 4, 59)) == (40, 9, 500_000)
    run_job("daily_reset", at=utc(2026, 1, 15, 5, 0, 2))
    assert _counters(db, new_york, utc(2026, 1, 15, 5, 0, 2)) == (0, 0, 0)
    assert (_resets(db, tehran), _resets(db, new_york)) == (1, 1)


def test_running_the_tick_again_the_same_day_changes_nothing(make, db, run_job):
    tenant = _busy_tenant(make, db, "Asia/Tehran", date(2026, 1, 14))
    run_job("daily_reset", at=utc(2026, 1, 14, 21, 0))
    member = db.session.scalars(sa.select(Member).where(Member.tenant_id == tenant.id)).one()
    member.xp_today, member.xp_today_day = 3, date(2026, 1, 15)   # earned after midnight
    db.session.commit()

    run_job("daily_reset", at=utc(2026, 1, 14, 22, 0))
    run_job("daily_reset", at=utc(2026, 1, 14, 23, 0))
    assert _counters(db, tenant, utc(2026, 1, 14, 23, 0))[0] == 3
    assert _resets(db, tenant) == 1


def test_a_missed_midnight_is_caught_up_at_the_first_tick(make, db, run_job):
    tenant = _busy_tenant(make, db, "Asia/Tehran", date(2026, 1, 11))   # down for three nights
    run_job("daily_reset", at=utc(2026, 1, 14, 9, 0))
    assert _counters(db, tenant, utc(2026, 1, 14, 9, 0)) == (0, 0, 0)
    assert db.session.get(Tenant, tenant.id).last_daily_reset_day == date(2026, 1, 14)
    assert _resets(db, tenant) == 1


def test_counters_already_counting_today_are_kept(make, db, run_job):
    tenant = _busy_tenant(make, db, "Asia/Tehran", date(2026, 1, 14))
    session = db.session.scalars(sa.select(BotSession).where(BotSession.tenant_id == tenant.id)).one()
    session.daily_requests, session.daily_requests_day = 2, date(2026, 1, 15)   # counted after midnight
    db.session.commit()
    run_job("daily_reset", at=utc(2026, 1, 14, 20, 31))
    assert _counters(db, tenant, utc(2026, 1, 14, 20, 31))[1] == 2


def test_xp_earned_between_midnight_and_the_reset_tick_is_kept(make, db, run_job):
    from app.services import clock, xp

    tenant = _busy_tenant(make, db, "Asia/Tehran", date(2026, 1, 14))   # 40 XP from the 14th
    member = db.session.scalars(sa.select(Member).where(Member.tenant_id == tenant.id)).one()
    member.xp_today_day = date(2026, 1, 14)
    db.session.commit()
    with clock.frozen(utc(2026, 1, 14, 20, 30, 20)):                   # 00:00:20 on the 15th in Tehran
        xp.add_xp(member, 7)
        db.session.commit()
    assert _counters(db, tenant, utc(2026, 1, 14, 20, 31))[0] == 7                                # the new day starts afresh
    run_job("daily_reset", at=utc(2026, 1, 14, 20, 31))
    assert _counters(db, tenant, utc(2026, 1, 14, 20, 31))[0] == 7


def test_the_reset_touches_only_its_own_tenant(make, db, run_job):
    tehran = _busy_tenant(make, db, "Asia/Tehran", date(2026, 1, 14))
    tokyo = _busy_tenant(make, db, "Asia/Tokyo", date(2026, 1, 15))       # already reset for its day
    run_job("daily_reset", at=utc(2026, 1, 14, 20, 31))
    assert _counters(db, tehran, utc(2026, 1, 14, 20, 31)) == (0, 0, 0)
    assert _counters(db, tokyo, utc(2026, 1, 14, 20, 31)) == (40, 9, 500_000)


def test_an_inactive_tenant_is_left_alone(make, db, run_job):
    tenant = _busy_tenant(make, db, "Asia/Tehran", date(2026, 1, 14))
    tenant.is_active = False
    db.session.commit()
    run_job("daily_reset", at=utc(2026, 1, 15, 12, 0))
    assert _counters(db, tenant, utc(2026, 1, 14, 12, 0)) == (40, 9, 500_000)   # rows untouched
    assert _resets(db, tenant) == 0 and db.session.get(Tenant, tenant.id).last_daily_reset_day == date(2026, 1, 14)
