"""The all-time rank read from member_xp_counts equals the naive count of members ahead, whatever changed XP."""
import random
import threading

import pytest
import sqlalchemy as sa

from app.models import Member, MemberXpCount
from app.services import leaderboard, xp, xp_counts

#: XP values around the structure's edges: ties, 0, coarse-bucket borders (256), big totals.
XP_VALUES = (0, 0, 1, 1, 2, 5, 255, 256, 257, 511, 512, 1_000, 70_000)

INSERT_SQL = """
INSERT INTO members (id, tenant_id, telegram_id, first_name, balance, vip_level, is_newcomer, is_banned,
                     total_xp, xp_today, level, referral_code, streak_days, created_at)
VALUES (:id, :tenant_id, :telegram_id, 'R', 0, 0, true, false, :xp, 0, 1, :code, 0, CURRENT_TIMESTAMP)
"""


def random_xp(rng):
    return rng.choice(XP_VALUES) if rng.random() < 0.7 else rng.randint(0, 3_000)


def seed(db, tenants, rng, count=300):
    """Members with explicit ids spread over many id blocks (1,024 wide), several tenants interleaved."""
    ids = rng.sample(range(5_000, 60_000), count)
    db.session.execute(sa.text(INSERT_SQL), [
        {"id": mid, "tenant_id": rng.choice(tenants).id, "telegram_id": 700_000_000 + mid, "xp": random_xp(rng),
         "code": f"R{mid}"} for mid in ids])
    db.session.commit()
    return ids


def naive_ranks(db, tenant_id):
    rows = db.session.execute(sa.select(Member.id, Member.total_xp).where(Member.tenant_id == tenant_id)).all()
    order = sorted(rows, key=lambda r: (r.total_xp, r.id), reverse=True)
    return {r.id: place for place, r in enumerate(order, start=1)}


def assert_ranks_exact(db, tenants):
    db.session.expire_all()
    for tenant in tenants:
        expected = naive_ranks(db, tenant.id)
        members = db.session.scalars(sa.select(Member).where(Member.tenant_id == tenant.id)).all()
        got = {m.id: leaderboard.rank_of(m) for m in members}
        assert got == expected
        standings = leaderboard.top(tenant, limit=100)
        assert all(got[s.member_id] == s.rank for s in standings)


def assert_counts_match_members(db):
    """After compaction: one row per key, and each key holds exactly the members it counts."""
    c = MemberXpCount
    stored = {(r.tenant_id, r.level, r.total_xp, r.id_block): r.members for r in db.session.execute(
        sa.select(c.tenant_id, c.level, c.total_xp, c.id_block, c.members)).all()}
    expected = {}
    for tenant_id, mid, total in db.session.execute(sa.select(Member.tenant_id, Member.id, Member.total_xp)).all():
        for key in ((tenant_id, 2, total >> 8, 0), (tenant_id, 1, total, 0), (tenant_id, 0, total, mid >> 10)):
            expected[key] = expected.get(key, 0) + 1
    assert stored == expected
    assert not db.session.scalar(sa.select(sa.func.count()).select_from(c).where(c.fresh))


def test_ranks_equal_the_naive_count_through_awards_imports_deletes_and_compaction(db, make):
    rng = random.Random(17)
    tenants = [make.tenant(), make.tenant()]
    ids = seed(db, tenants, rng)
    assert_ranks_exact(db, tenants)

    for mid in rng.sample(ids, 60):                             # XP awards: the one owner of XP changes
        xp.add_xp(db.session.get(Member, mid), rng.choice((1, 1, 5, 200, 256, 4_000)))
    db.session.commit()
    assert_ranks_exact(db, tenants)

    moved = rng.sample(ids, 40)                                  # a set-based UPDATE (as an import merge does)
    db.session.execute(sa.update(Member).where(Member.id.in_(moved)).values(total_xp=Member.total_xp + 256),
                       execution_options={"synchronize_session": False})
    gone = rng.sample([m for m in ids if m not in moved], 30)
    db.session.execute(sa.delete(Member).where(Member.id.in_(gone)), execution_options={"synchronize_session": False})
    newcomer = make.member(tenants[0])                           # a new member starts at 0 XP; ids grow, so
    db.session.commit()                                          # it ranks by its id among the 0s
    assert_ranks_exact(db, tenants)
    assert leaderboard.rank_of(newcomer) == naive_ranks(db, tenants[0].id)[newcomer.id]

    assert db.session.scalar(sa.select(sa.func.count()).select_from(MemberXpCount).where(MemberXpCount.fresh))
    for tenant in tenants:
        xp_counts.compact(tenant.id)
    db.session.commit()
    assert_counts_match_members(db)
    assert_ranks_exact(db, tenants)

    for mid in rng.sample([m for m in ids if m not in gone], 20):  # and again after compaction
        xp.add_xp(db.session.get(Member, mid), rng.randint(1, 600))
    db.session.commit()
    assert_ranks_exact(db, tenants)
    for tenant in tenants:
        xp_counts.compact(tenant.id)
    db.session.commit()
    assert_counts_match_members(db)


def test_the_rank_reads_a_bounded_number_of_rows(db, make):
    """The query sums count rows and counts ties inside one id block: no scan of the members ahead."""
    tenant = make.tenant()
    member = make.member(tenant)
    sql = str(leaderboard.rank_query(member, "all").compile(compile_kwargs={"literal_binds": True}))
    assert "member_xp_counts" in sql and "members.id <" in sql


@pytest.mark.postgres
@pytest.mark.timeout(180)
def test_concurrent_awards_and_compactions_keep_ranks_exact(app, db, make):
    rng = random.Random(3)
    tenants = [make.tenant()]
    ids = seed(db, tenants, rng, count=60)
    tenant_id = tenants[0].id                  # read here: the threads must not touch this session's objects
    errors: list[BaseException] = []

    def worker(seed_: int) -> None:
        local = random.Random(seed_)
        from app.extensions import db as _db
        with app.app_context():
            try:
                for i in range(25):
                    member = _db.session.get(Member, local.choice(ids))
                    xp.add_xp(member, local.choice((1, 2, 255, 256, 300)))
                    if i % 10 == 9:
                        xp_counts.compact(tenant_id)
                    _db.session.commit()
            except BaseException as err:  # noqa: BLE001 - collected and re-raised by the test
                errors.append(err)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert_ranks_exact(db, tenants)
    xp_counts.compact(tenants[0].id)
    db.session.commit()
    assert_counts_match_members(db)
    assert_ranks_exact(db, tenants)
