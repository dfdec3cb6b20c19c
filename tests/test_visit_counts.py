"""member_visit_counts: the daily stats' active members equal the members whose visit fell on the day, whatever
wrote last_visit_day (inserts, first visits, repeat visits, set-based updates), per tenant, through compaction."""
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from app.jobs import stats
from app.models import DailyStat, Member, MemberVisitCount
from app.services import clock, visit_counts, xp

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)          # 12:30 in Tehran, 14:45 in Kathmandu: the same local day
TODAY = date(2026, 3, 1)


def stored(db, tenant, day) -> int:
    return db.session.scalar(sa.select(visit_counts.active_members_query(tenant.id, day)))


def last_visits(db, tenant, day) -> int:
    """The brute-force count: members whose last visit is `day`."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Member).where(
        Member.tenant_id == tenant.id, Member.last_visit_day == day))


def visit(db, members, now):
    for member in members:
        xp.record_visit(member, now=now)
    db.session.commit()


def test_counts_follow_inserts_first_and_repeat_visits_new_days_and_compaction(db, make):
    tehran, kathmandu = make.tenant(timezone="Asia/Tehran"), make.tenant(timezone="Asia/Kathmandu")
    ours, theirs = [make.member(tehran) for _ in range(7)], [make.member(kathmandu) for _ in range(4)]
    db.session.commit()
    assert stored(db, tehran, TODAY) == 0 == last_visits(db, tehran, TODAY)

    db.session.add_all([Member(tenant_id=tehran.id, telegram_id=900_000 + i, referral_code=f"V{i}",
                               last_visit_day=TODAY if i % 2 else None) for i in range(5)])   # inserted visited
    db.session.commit()
    assert stored(db, tehran, TODAY) == 2 == last_visits(db, tehran, TODAY)

    visit(db, ours[:4], NOW)                                            # first visits of the day
    assert stored(db, tehran, TODAY) == 6 == last_visits(db, tehran, TODAY)
    visit(db, ours[:4], NOW + timedelta(hours=1))                       # repeat visits the same day: no change
    visit(db, theirs, NOW)                                              # another tenant's visits
    assert stored(db, tehran, TODAY) == 6 == last_visits(db, tehran, TODAY)
    assert stored(db, kathmandu, TODAY) == 4 == last_visits(db, kathmandu, TODAY)

    tomorrow = TODAY + timedelta(days=1)
    visit(db, ours[1:3] + ours[4:6], NOW + timedelta(days=1))            # a new day: yesterday keeps its visitors
    assert stored(db, tehran, tomorrow) == 4 == last_visits(db, tehran, tomorrow)
    assert stored(db, tehran, TODAY) == 6 and last_visits(db, tehran, TODAY) == 4

    db.session.execute(sa.update(Member).where(Member.id == ours[0].id).values(last_visit_day=tomorrow))   # raw SQL
    db.session.execute(sa.update(Member).where(Member.id == ours[1].id).values(last_visit_day=None))   # not a visit
    db.session.commit()
    assert stored(db, tehran, tomorrow) == 5

    before = {(t, d): stored(db, t, d) for t in (tehran, kathmandu) for d in (TODAY, tomorrow)}
    assert sum(visit_counts.compact_tenant(t) for t in (tehran, kathmandu)) == 3   # one row per (tenant, day)
    db.session.commit()
    assert {(t, d): stored(db, t, d) for t in (tehran, kathmandu) for d in (TODAY, tomorrow)} == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MemberVisitCount)
                             .where(MemberVisitCount.fresh)) == 0
    assert visit_counts.compact_tenant(tehran) == 0                      # nothing fresh: nothing written
    visit(db, [ours[6]], NOW + timedelta(days=1))                        # after compaction, deltas add again
    assert stored(db, tehran, tomorrow) == 6


def test_the_snapshot_reads_the_days_visitors(db, make):
    tenant = make.tenant(timezone="Asia/Tehran")
    members = [make.member(tenant) for _ in range(3)]
    db.session.commit()
    visit(db, members, NOW)
    visit(db, members[:1], NOW + timedelta(days=1))
    for day in (TODAY, TODAY + timedelta(days=1)):
        with clock.frozen(NOW + timedelta(days=2)):
            stats.snapshot_day(tenant, day, clock.now())
    db.session.commit()
    rows = dict(db.session.execute(sa.select(DailyStat.day, DailyStat.active_members)
                                   .where(DailyStat.tenant_id == tenant.id)).all())
    assert rows == {TODAY: 3, TODAY + timedelta(days=1): 1}
