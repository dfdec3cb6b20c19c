"""The reset of a 100,000-member tenant rewrites no member or session row: the counters carry their day."""
from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.jobs.daily_reset import reset_due_tenant
from app.models import BotSession, Member, Tenant
from app.services import clock, leaderboard

MEMBERS = 100_000
DAY = date(2026, 1, 14)
_UPDATE = re.compile(r"^\s*UPDATE\s+\"?(\w+)\"?", re.IGNORECASE)


def _insert_members(db, tenant_id: int) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    common = dict(tenant_id=tenant_id, balance=0, vip_level=0, is_newcomer=False, is_banned=False,
                  total_xp=5, xp_today=5, xp_today_day=DAY, level=1, streak_days=0, created_at=now)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text(
            "INSERT INTO members (tenant_id, telegram_id, referral_code, balance, vip_level, is_newcomer, "
            "is_banned, total_xp, xp_today, xp_today_day, level, streak_days, created_at) "
            "SELECT :tenant_id, 9000000 + g, 'r' || g, :balance, :vip_level, :is_newcomer, :is_banned, "
            ":total_xp, :xp_today, :xp_today_day, :level, :streak_days, :created_at FROM generate_series(1, :n) AS g"),
            {**common, "n": MEMBERS})
    else:
        rows = [dict(common, telegram_id=9_000_000 + i, referral_code=f"r{i}") for i in range(MEMBERS)]
        db.session.execute(sa.insert(Member.__table__), rows)


def _insert_sessions(db, tenant_id: int, bot_id: int) -> None:
    """One session per member, set-based on both backends."""
    db.session.execute(sa.text(
        "INSERT INTO bot_sessions (tenant_id, member_id, bot_id, session_data, stats_data, daily_requests, "
        "daily_requests_day, created_at, updated_at) "
        "SELECT tenant_id, id, :bot_id, '{}', '{}', 3, :day, created_at, created_at FROM members "
        "WHERE tenant_id = :tenant_id"), {"bot_id": bot_id, "tenant_id": tenant_id, "day": DAY})


@pytest.mark.slow
def test_resetting_100k_members_rewrites_no_counter_row(make, db):
    tenant = make.tenant(timezone="Asia/Tehran")
    bot = make.bot(tenant)
    make.card(tenant, received_today=1_000, received_day=DAY)
    _insert_members(db, tenant.id)
    _insert_sessions(db, tenant.id, bot.id)
    tenant.last_daily_reset_day = DAY
    db.session.commit()

    statements = []
    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        reset_due_tenant(db.session.get(Tenant, tenant.id), datetime(2026, 1, 14, 21, 0, tzinfo=UTC))
        db.session.commit()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)

    updates = Counter(m.group(1) for m in map(_UPDATE.match, statements) if m)
    assert updates == {"tenants": 1}           # claiming the day
    assert len(statements) < 25, statements    # the rest is the stats snapshot and the audit row
    today = DAY + timedelta(days=1)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Member).where(
        Member.tenant_id == tenant.id, Member.xp_today != 0, Member.xp_today_day == today)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BotSession).where(
        BotSession.tenant_id == tenant.id, BotSession.daily_requests != 0, BotSession.daily_requests_day == today)) == 0
    member = db.session.scalars(sa.select(Member).where(Member.tenant_id == tenant.id).limit(1)).one()
    with clock.frozen(datetime(2026, 1, 14, 21, 0, tzinfo=UTC)):
        assert leaderboard.xp_in(member, "today") == 0 and leaderboard.top(member.tenant, period="today") == []
