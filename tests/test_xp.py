from datetime import UTC, date, datetime, timezone

import pytest

from app.models import Member, MemberBadge
from app.services import levels, xp
from app.services.clock import tenant_today as local_today
from app.services.errors import ValidationFailed

#: 2026-03-10 21:00 UTC is already 2026-03-11 in Tehran (UTC+3:30).
LATE_EVENING_UTC = datetime(2026, 3, 10, 21, 0, tzinfo=UTC)


def test_award_adds_xp_and_returns_the_level_up(db, make):
    member = make.member(make.tenant())
    change = xp.award(member, 120, source="purchase", key="receipt:1")
    db.session.commit()
    assert (change.old_level, change.new_level) == (1, 2)
    assert db.session.get(Member, member.id).total_xp == 120


def test_disabled_source_gives_nothing(db, make):
    tenant = make.tenant()
    tenant.settings = {"xp_sources_disabled": ["promocode"]}
    member = make.member(tenant)
    assert xp.award(member, 500, source="promocode") is None
    xp.award(member, 5, source="purchase")
    db.session.commit()
    assert db.session.get(Member, member.id).total_xp == 5


def test_unknown_source_is_refused(db, make):
    with pytest.raises(ValidationFailed):
        xp.award(make.member(make.tenant()), 5, source="lottery")


def test_reaching_level_5_awards_its_badge_with_the_bot(db, make):
    tenant = make.tenant()
    member, bot = make.member(tenant), make.bot(tenant)
    xp.award(member, 1_000, source="manual", bot=bot)
    db.session.commit()
    badge = db.session.query(MemberBadge).filter_by(member_id=member.id).one()
    assert (badge.badge_code, badge.earned_in_bot_id) == ("level_5", bot.id)


def test_local_today_follows_the_tenant_timezone(db, make):
    assert local_today(make.tenant(), LATE_EVENING_UTC) == date(2026, 3, 11)
    assert local_today(make.tenant(timezone="UTC"), LATE_EVENING_UTC) == date(2026, 3, 10)


def test_first_visit_of_the_day_gives_xp_once(db, make):
    member = make.member(make.tenant())
    first = xp.record_visit(member, now=LATE_EVENING_UTC)
    again = xp.record_visit(member, now=LATE_EVENING_UTC)
    db.session.commit()
    assert (first.first_today, again.first_today) == (True, False)
    fresh = db.session.get(Member, member.id)
    assert (fresh.total_xp, fresh.streak_days, fresh.last_visit_day) == (5, 1, date(2026, 3, 11))


def test_daily_visit_xp_is_tenant_configurable(db, make):
    tenant = make.tenant()
    tenant.settings = {"xp_daily_visit": 12}
    member = make.member(tenant)
    xp.record_visit(member)
    assert member.total_xp == 12


def test_consecutive_days_grow_the_streak_and_a_gap_resets_it(db, make):
    member = make.member(make.tenant(timezone="UTC"))
    for day in (1, 2, 3):
        visit = xp.record_visit(member, now=datetime(2026, 3, day, 9, tzinfo=UTC))
    assert visit.streak_days == 3
    visit = xp.record_visit(member, now=datetime(2026, 3, 5, 9, tzinfo=UTC))
    assert visit.streak_days == 1


def test_seven_day_streak_earns_its_badge(db, make):
    member = make.member(make.tenant(timezone="UTC"))
    member.streak_days, member.last_visit_day = 6, date(2026, 3, 6)
    visit = xp.record_visit(member, now=datetime(2026, 3, 7, 9, tzinfo=UTC))
    assert [b.badge_code for b in visit.badges] == ["streak_7"]


def test_add_xp_adds_to_total_and_today_and_reports_level_up(db, make):
    member = make.member(make.tenant())
    assert xp.add_xp(member, 60) is None
    change = xp.add_xp(member, 200)
    db.session.commit()
    fresh = db.session.get(Member, member.id)
    assert (fresh.total_xp, fresh.xp_today, fresh.level) == (260, 260, 3)
    assert change == levels.LevelChange(old_level=1, new_level=3, total_xp=260, next_level_at=500)


def test_add_xp_ignores_zero_and_refuses_non_whole_points(db, make):
    member = make.member(make.tenant())
    assert xp.add_xp(member, 0) is None and member.total_xp == 0
    for points in (1.5, True):
        with pytest.raises(ValidationFailed):
            xp.add_xp(member, points)
