import pytest
import sqlalchemy as sa

from app.services import clock, leaderboard, xp
from app.services.errors import ValidationFailed


def with_xp(make, tenant, total, today=0, **fields):
    member = make.member(tenant, **fields)
    member.total_xp, member.xp_today = total, today
    member.xp_today_day = clock.tenant_today(tenant) if today else None
    return member


def test_top_orders_by_xp_then_newest_id_and_skips_members_without_xp(db, make):
    tenant = make.tenant()
    low = with_xp(make, tenant, 10, first_name="Low")
    tie_old = with_xp(make, tenant, 50, first_name="Old")
    tie_new = with_xp(make, tenant, 50, username="newbie")
    with_xp(make, tenant, 0)
    standings = leaderboard.top(tenant)
    assert [(s.rank, s.member_id, s.xp) for s in standings] == [
        (1, tie_new.id, 50), (2, tie_old.id, 50), (3, low.id, 10)]
    assert [s.display_name for s in standings] == ["@newbie", "Old", "Low"]


def test_rank_agrees_with_top_including_ties(db, make):
    tenant = make.tenant()
    members = [with_xp(make, tenant, xp_) for xp_ in (5, 30, 30, 0, 90)]
    order = [s.member_id for s in leaderboard.top(tenant, limit=100)]
    for member in members:
        if member.total_xp:
            assert leaderboard.rank_of(member) == order.index(member.id) + 1
    assert leaderboard.rank_of(members[3]) == 5


def test_today_board_reads_xp_today(db, make):
    tenant = make.tenant()
    veteran = with_xp(make, tenant, 5_000, today=0)
    busy = with_xp(make, tenant, 10, today=10)
    assert [s.member_id for s in leaderboard.top(tenant, period="today")] == [busy.id]
    assert (leaderboard.rank_of(busy, period="today"), leaderboard.rank_of(veteran, period="today")) == (1, 2)
    assert leaderboard.rank_of(veteran) == 1


def test_xp_of_an_earlier_day_counts_as_none_today(db, make):
    """Nothing zeroes xp_today at midnight: its day decides whether it counts."""
    from datetime import timedelta

    tenant = make.tenant()
    yesterday = with_xp(make, tenant, 50, today=40)
    yesterday.xp_today_day -= timedelta(days=1)
    busy, idle = with_xp(make, tenant, 10, today=5), with_xp(make, tenant, 7)
    db.session.commit()
    assert [s.member_id for s in leaderboard.top(tenant, period="today")] == [busy.id]
    assert leaderboard.xp_in(yesterday, "today") == 0
    assert [leaderboard.rank_of(m, period="today") for m in (busy, idle, yesterday)] == [1, 2, 3]


def test_limit_and_tenant_isolation(db, make):
    tenant, other = make.tenant(), make.tenant()
    for n in range(1, 6):
        with_xp(make, tenant, n)
    stranger = with_xp(make, other, 1_000)
    assert [s.xp for s in leaderboard.top(tenant, limit=3)] == [5, 4, 3]
    assert stranger.id not in [s.member_id for s in leaderboard.top(tenant)]
    assert leaderboard.rank_of(stranger) == 1


def test_level_is_shown(db, make):
    member = make.member(make.tenant())
    xp.award(member, 300, source="manual")
    assert leaderboard.top(member.tenant)[0].level == 3


def test_unknown_period_is_refused(db, make):
    with pytest.raises(ValidationFailed):
        leaderboard.top(make.tenant(), period="week")


SEED_SQL = """
INSERT INTO members (tenant_id, telegram_id, first_name, balance, vip_level, is_newcomer, is_banned,
                     total_xp, xp_today, xp_today_day, level, referral_code, streak_days, created_at)
SELECT :tenant_id, 900000000 + g, 'M' || g, 0, 0, true, false,
       (g * 7919) % 50000, CASE WHEN g % 4 = 0 THEN (g * 31) % 500 ELSE 0 END,
       CASE WHEN g % 4 = 0 THEN (now() AT TIME ZONE 'Asia/Tehran')::date END, 1, 'S' || g, 0, now()
FROM generate_series(1, :n) AS g
"""


@pytest.fixture
def big_tenant(app, db, make):
    """A tenant with 100,000 members (set-based insert), next to a small one, analyzed."""
    tenant = make.tenant()
    small = make.tenant()
    db.session.execute(sa.text(SEED_SQL), {"tenant_id": tenant.id, "n": 100_000})
    db.session.execute(sa.text(SEED_SQL.replace("900000000", "800000000")), {"tenant_id": small.id, "n": 1_000})
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE members"))
    return tenant


def explained(db, call):
    """Run `call`, capture the SQL it sends to the database, and EXPLAIN exactly that SQL."""
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "FROM members" in statement:
            statements.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", capture)
    try:
        result = call()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", capture)
    assert statements, "no query on members was sent"
    cursor = db.session.connection().connection.cursor()
    plans = []
    for statement, parameters in statements:
        cursor.execute("EXPLAIN " + statement, parameters)
        plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return result, plans


@pytest.mark.postgres
@pytest.mark.timeout(300)
@pytest.mark.parametrize("period", ["all", "today"])
def test_board_and_ranks_read_an_index_on_100k_members(db, big_tenant, period):
    from app.models import Member

    standings, plans = explained(db, lambda: leaderboard.top(big_tenant, period=period, limit=100))
    assert len(standings) == 100
    column = leaderboard.xp_column(period)
    picks = [db.session.get(Member, standings[0].member_id), db.session.get(Member, standings[-1].member_id)]
    picks.append(db.session.scalar(sa.select(Member).where(Member.tenant_id == big_tenant.id)
                                   .order_by(column, Member.id).limit(1)))
    for member in picks:
        rank, rank_plans = explained(db, lambda: leaderboard.rank_of(member, period=period))
        assert rank >= 1
        plans += rank_plans
    for plan in plans:
        assert "Seq Scan on members" not in plan, plan
        assert "ix_members_tenant_" in plan, plan
    assert leaderboard.rank_of(picks[0], period=period) == 1
    assert leaderboard.rank_of(picks[1], period=period) == 100
