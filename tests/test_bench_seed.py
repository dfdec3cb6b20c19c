"""bench/seed.py's rows agree with the app's own rules, so the bench measures the work real data causes (with
every member at level 1 whatever their XP, most of P5's approvals levelled up and awarded badges).
"""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.models import BotSession, LedgerEntry, Member, MemberBadge, Receipt, Tenant
from app.services import badges, clock, levels, tenancy

pytestmark = pytest.mark.postgres
MEMBERS = 400


@pytest.fixture
def seeded(db):
    """A bench tenant of MEMBERS members, its members, and the moment it was seeded."""
    from bench import seed

    tenant_id, _ = seed.seed_tenant("bench-rules", MEMBERS, telegram_base=3_000_000_000, salt="rules")
    tenant = db.session.get(Tenant, tenant_id)
    members = db.session.scalars(sa.select(Member).where(Member.tenant_id == tenant_id)).all()
    assert len(members) == MEMBERS
    return db, tenant, members, clock.now()


def test_levels_follow_xp_by_the_tenants_table(seeded):
    _, tenant, members, _ = seeded
    table = levels.thresholds(tenant)
    assert [m.level for m in members] == [levels.level_in(table, m.total_xp) for m in members]
    assert len({m.level for m in members}) >= 5  # the XP spread reaches many levels, so the check means something


def test_todays_xp_is_part_of_the_total_and_carries_the_visit_day(seeded):
    _, tenant, members, now = seeded
    today = clock.tenant_today(tenant, now)
    earned = [m for m in members if m.xp_today]
    assert all(0 <= m.xp_today <= m.total_xp for m in members)
    assert all((m.xp_today_day is not None) == (m.xp_today > 0) for m in members)
    assert {m.xp_today_day for m in earned} == {today, today - timedelta(days=1)}
    assert all(m.xp_today_day == m.last_visit_day for m in earned)


def test_the_last_visit_is_the_day_of_the_last_activity_and_the_streak_fits(seeded):
    _, tenant, members, now = seeded
    for m in members:
        assert m.created_at <= m.last_activity_at <= now
        assert m.last_visit_day == clock.local_day(tenant.timezone, m.last_activity_at)
        joined = clock.local_day(tenant.timezone, m.created_at)
        assert 1 <= m.streak_days <= (m.last_visit_day - joined).days + 1


def test_members_hold_exactly_the_level_and_streak_badges_they_reached(seeded):
    db, _, members, _ = seeded
    held = set(db.session.execute(sa.select(MemberBadge.member_id, MemberBadge.badge_code)).all())
    reached = {(m.id, code) for m in members for code, needed in badges.LEVEL_BADGES if m.level >= needed}
    reached |= {(m.id, code) for m in members for code, needed in badges.STREAK_BADGES if m.streak_days >= needed}
    assert held == reached
    assert {code for _, code in held} == {code for code, _ in badges.LEVEL_BADGES + badges.STREAK_BADGES}


def test_money_and_history_come_after_joining(seeded):
    db, _, members, now = seeded
    joined = {m.id: m.created_at for m in members}
    sums = dict(db.session.execute(sa.select(LedgerEntry.member_id, sa.func.sum(LedgerEntry.amount))
                                   .group_by(LedgerEntry.member_id)).all())
    assert all(m.balance == sums.get(m.id, 0) for m in members)
    for member_id, at in db.session.execute(sa.select(LedgerEntry.member_id, LedgerEntry.created_at)):
        assert joined[member_id] <= at <= now
    for r in db.session.scalars(sa.select(Receipt)):
        assert joined[r.member_id] <= r.created_at <= r.submitted_at and (r.reviewed_at or r.submitted_at) <= now
    active = {m.id: m.last_activity_at for m in members}
    sessions = db.session.execute(sa.select(BotSession.member_id, BotSession.updated_at)).all()
    assert sessions and all(at == active[member_id] for member_id, at in sessions)


def test_every_approved_receipt_carries_the_credit_an_approval_writes(seeded):
    db, _, _, _ = seeded
    from bench import seed

    decided = db.session.scalars(sa.select(Receipt).where(Receipt.reviewed_at.is_not(None))).all()
    credits = db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.ref_type == "receipt")).all()
    owner_id = tenancy.find_account(seed.OWNER_EMAIL).id
    owner = f"account:{owner_id}"
    assert sorted((e.ref_id, e.member_id, e.amount, e.kind, e.idempotency_key, e.actor, e.created_at) for e in credits) \
        == sorted((r.id, r.member_id, r.amount, "topup", f"receipt:{r.id}", owner, r.reviewed_at)
                  for r in decided if r.status == "approved")
    assert {r.status for r in decided} == {"approved", "rejected"}
    assert all(r.reviewed_by_account_id == owner_id for r in decided)


def test_a_third_of_members_have_ledger_history_that_runs_in_order(seeded):
    db, _, members, _ = seeded
    entries = db.session.scalars(sa.select(LedgerEntry).order_by(LedgerEntry.id)).all()
    history: dict[int, list[LedgerEntry]] = {}
    for entry in entries:
        history.setdefault(entry.member_id, []).append(entry)
    assert 0.2 < len(history) / len(members) < 0.4
    decided = db.session.scalars(sa.select(Receipt.member_id).where(Receipt.reviewed_at.is_not(None))).all()
    assert set(decided) <= set(history)
    for own in history.values():
        running = [sum(e.amount for e in own[:i + 1]) for i in range(len(own))]
        assert [e.balance_after for e in own] == running
        assert [e.created_at for e in own] == sorted(e.created_at for e in own)
