"""Set-based seeding (generate_series) of a big tenant and a small one, through the real migrations.

The data is shaped like a real tenant's, because plans depend on it:
- usernames are not correlated with ids (a hash picks the name part), 30% of members have none;
- first and last names are Persian or Latin;
- members joined over the year before yesterday, ids in the order they joined;
- 30% of members have ledger history (1–4 top-ups, and the credit of each of their approved receipts; balance =
  the sum of their entries, balance_after their running sum);
- 20,000 receipts (1% pending review, the rest approved or rejected), each after its member joined; the decided
  ones are of members with ledger history, and each approved one carries the credit receipts.approve writes;
- 10% of members hold a subscription (some ended but not yet expired, some ending within 3 days);
- XP is skewed: most members have little, a few have a lot; 10% earned XP today, 20% yesterday;
- every member who was active recently has a session in the tenant's bot (with yesterday's counter).
The small tenant (members / 100, at least 1,000) is the baseline the big one is compared with.

Columns that the app keeps in step are seeded in step, by the app's own rules (a seed that breaks them makes
the bench measure work real data never causes: with every member at level 1, most approvals levelled up):
the level is the tenant's level table applied to total_xp (levels.thresholds, as levels.level_in reads it);
today's XP is part of total_xp; the last visit is the tenant-local day of the last activity (every update
records a visit), on the day of today's or yesterday's XP for those who earned it, and its streak fits
since the member joined; every member holds the level and streak badges they reached (badges.LEVEL_BADGES,
badges.STREAK_BADGES) and no other.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

BIG_SLUG, SMALL_SLUG = "bench-big", "bench-small"
OWNER_EMAIL, OWNER_PASSWORD = "bench-owner@example.com", "bench-password-42"
RECEIPTS = 20_000

#: h is a 31-bit hash of the member's ordinal: every column derived from it is uncorrelated with the id.
#: A member is active (and visits) on the tenant-local day of active_at: today for 10% (with XP today),
#: yesterday for 20% (with XP that day), else some day between joining and yesterday.
MEMBERS_SQL = """
WITH names AS (SELECT
    ARRAY['علی','محمد','حسین','رضا','مهدی','امیر','زهرا','فاطمه','مریم','سارا','نگار','کوثر','پارسا','آرش',
          'نیما','یاسمن','الهام','سینا','هستی','کیان'] AS fa_first,
    ARRAY['محمدی','حسینی','احمدی','رضایی','کریمی','موسوی','جعفری','صادقی','رحیمی','تهرانی','شیرازی','قاسمی'] AS fa_last,
    ARRAY['Ali','Reza','Sara','Maria','John','Anna','Ivan','Olga','David','Nina','Omid','Leila','Max','Eva',
          'Arman','Dina','Tom','Mina','Alex','Zoe'] AS en_first,
    ARRAY['Smith','Ivanov','Karimi','Rahimi','Petrova','Miller','Tehrani','Novak','Brown','Sokolov'] AS en_last),
 g AS (SELECT i, hashtext('m' || i || :salt) & 2147483647 AS h,
              hashtext('x' || i || :salt) & 2147483647 AS hx,
              CAST(:yesterday_start AS timestamptz) - interval '1 hour' - (:n - i) * (interval '365 days' / :n)
                  AS joined_at
       FROM generate_series(1, :n) i),
 v AS (SELECT g.*, ((h / 29) % 1000) / 1000.0 AS f,
              CASE WHEN h % 10 IN (1, 2, 3) THEN 1 + (h / 17) % 300 ELSE 0 END AS xp_today
       FROM g),
 a AS (SELECT v.*, CASE
          WHEN h % 10 = 1 THEN CAST(:today_start AS timestamptz) + (CAST(:now AS timestamptz) - :today_start) * f
          WHEN h % 10 IN (2, 3) THEN CAST(:yesterday_start AS timestamptz) + (CAST(:today_start AS timestamptz)
                                                                              - :yesterday_start) * f
          ELSE joined_at + (CAST(:yesterday_start AS timestamptz) - joined_at) * f END AS active_at,
          floor(power((hx % 100000) / 100000.0, 5) * 200000)::bigint + xp_today AS total_xp
       FROM v),
 d AS (SELECT a.*, (active_at AT TIME ZONE :tz)::date AS visit_day, (joined_at AT TIME ZONE :tz)::date AS joined_day
       FROM a)
INSERT INTO members (tenant_id, telegram_id, username, first_name, last_name, language_code, balance, vip_level,
    is_newcomer, is_banned, total_xp, xp_today, xp_today_day, level, referral_code, streak_days, last_visit_day,
    created_at, last_activity_at)
SELECT :tenant_id, :telegram_base + i,
    CASE WHEN h % 10 < 7 THEN lower(en_first[1 + (h / 7) % 20]) || '_' || substr(md5(i || :salt), 1, 7) END,
    CASE WHEN h % 2 = 0 THEN fa_first[1 + (h / 3) % 20] ELSE en_first[1 + (h / 3) % 20] END,
    CASE WHEN h % 5 = 0 THEN NULL WHEN h % 2 = 0 THEN fa_last[1 + (h / 11) % 12] ELSE en_last[1 + (h / 11) % 10] END,
    (ARRAY['fa','fa','fa','en','ru'])[1 + (h / 13) % 5], 0, 0, h % 3 = 0, h % 500 = 0,
    total_xp, xp_today, CASE WHEN xp_today > 0 THEN visit_day END,
    width_bucket(total_xp, CAST(:levels AS bigint[])), 'B' || i,
    least(1 + (h / 19) % 30, visit_day - joined_day + 1), visit_day, joined_at, active_at
FROM d, names
"""

#: The 30% of members with ledger history: every approved receipt goes to one of them, so its credit adds to a
#: history and the share stays 30%.
HAS_LEDGER = "(hashtext('l' || m.id) & 2147483647) % 10 < 3"

#: Decided receipt r goes to a hashed member with ledger history; the 1% pending ones to distinct members of all
#: (one open receipt each). It is submitted some time after the member joined and reviewed an hour later, before
#: now, by the owner.
RECEIPTS_SQL = f"""
WITH paying AS (
    SELECT m.id, row_number() OVER (ORDER BY m.id) - 1 AS slot FROM members m
    WHERE m.tenant_id = :tenant_id AND {HAS_LEDGER}),
 picked AS (
    SELECT r, (hashtext('r' || r) & 2147483647) % (SELECT count(*) FROM paying) AS slot,
           ((hashtext('t' || r) & 2147483647) % 1000) / 1000.0 AS f
    FROM generate_series(1, :receipts) r),
 placed AS (
    SELECT p.r, p.f, CASE WHEN p.r % 100 = 0 THEN :first_id + (p.r / 100) % :n ELSE paying.id END AS member_id
    FROM picked p JOIN paying USING (slot)),
 timed AS (
    SELECT p.*, m.created_at AS joined_at, m.created_at + (now() - interval '2 hours' - m.created_at) * p.f AS at
    FROM placed p JOIN members m ON m.id = p.member_id)
INSERT INTO receipts (tenant_id, member_id, purpose, amount, tracking_code, status, created_at, submitted_at,
    expires_at, reviewed_at, reviewed_by_account_id)
SELECT :tenant_id, member_id, 'topup', 10000 * (1 + r % 50), :code_prefix || r,
    CASE WHEN r % 100 = 0 THEN 'pending_review' WHEN r % 4 = 0 THEN 'rejected' ELSE 'approved' END,
    greatest(joined_at, at - (r % 1440) * interval '1 minute'), at, at + interval '1 day',
    CASE WHEN r % 100 = 0 THEN NULL ELSE at + interval '1 hour' END, CASE WHEN r % 100 <> 0 THEN :owner_id END
FROM timed
"""

#: Each member with ledger history has 1–4 top-ups of their own, and the credit of each approved receipt of theirs
#: as receipts.approve writes it (key receipt:<id>, ref the receipt, at the review, by the reviewer). Entries are
#: numbered in time order, and balance_after runs over each member's entries in that order.
LEDGER_SQL = f"""
WITH own AS (
    SELECT m.id AS member_id, 10000 * (1 + (hashtext(m.id || ':' || k) & 15)) AS amount,
           m.created_at + (now() - m.created_at) * k / 5 AS at, 'bench:' || m.id || ':' || k AS key,
           CAST(NULL AS varchar) AS ref_type, CAST(NULL AS bigint) AS ref_id, 'system' AS actor
    FROM members m, generate_series(1, 4) k
    WHERE m.tenant_id = :tenant_id AND {HAS_LEDGER} AND k <= 1 + (hashtext('c' || m.id) & 3)),
 credits AS (
    SELECT member_id, amount, reviewed_at, 'receipt:' || id, 'receipt', id, 'account:' || reviewed_by_account_id
    FROM receipts WHERE tenant_id = :tenant_id AND status = 'approved'),
 entries AS (SELECT * FROM own UNION ALL SELECT * FROM credits)
INSERT INTO ledger_entries (tenant_id, member_id, account, amount, balance_after, kind, ref_type, ref_id,
    idempotency_key, actor, created_at)
SELECT :tenant_id, member_id, 'member_balance', amount, sum(amount) OVER (PARTITION BY member_id ORDER BY at, key),
       'topup', ref_type, ref_id, key, actor, at
FROM entries
ORDER BY at, key
"""

BALANCES_SQL = """
UPDATE members m SET balance = s.total, is_newcomer = false
FROM (SELECT member_id, sum(amount) AS total FROM ledger_entries WHERE tenant_id = :tenant_id
      GROUP BY member_id) s
WHERE m.id = s.member_id AND m.tenant_id = :tenant_id
"""

SUBSCRIPTIONS_SQL = """
INSERT INTO subscriptions (tenant_id, member_id, plan_id, status, starts_at, ends_at, traffic_used_bytes, source,
    created_at)
SELECT :tenant_id, m.id, :plan_id, 'active', greatest(m.created_at, now() - interval '20 days'),
       now() + (((hashtext('s' || m.id) & 2147483647) % 600) - 60) * interval '1 hour', 0, 'receipt',
       greatest(m.created_at, now() - interval '20 days')
FROM members m
WHERE m.tenant_id = :tenant_id AND (hashtext('s' || m.id) & 2147483647) % 10 = 0
"""

SESSIONS_SQL = """
INSERT INTO bot_sessions (tenant_id, member_id, bot_id, session_data, stats_data, daily_requests,
    daily_requests_day, created_at, updated_at)
SELECT :tenant_id, id, :bot_id, '{}', '{}', 1 + id % 9, :today - 1, created_at, last_activity_at
FROM members WHERE tenant_id = :tenant_id AND xp_today_day IS NOT NULL
"""

#: Every badge of a ladder (code, needed, on the level or else the streak) that the member's level or streak reached.
BADGES_SQL = """
INSERT INTO member_badges (tenant_id, member_id, badge_code, earned_in_bot_id, metadata, awarded_at)
SELECT m.tenant_id, m.id, b.code, :bot_id, '{}', m.created_at + (m.last_activity_at - m.created_at) / 2
FROM members m
JOIN unnest(CAST(:badge_codes AS text[]), CAST(:badge_needs AS int[]), CAST(:badge_on_level AS boolean[]))
    AS b(code, needed, on_level)
  ON CASE WHEN b.on_level THEN m.level ELSE m.streak_days END >= b.needed
WHERE m.tenant_id = :tenant_id
"""


@dataclass
class World:
    """Ids of what the seed made; the scripts load rows from these."""

    big_tenant_id: int
    small_tenant_id: int
    big_members: int
    small_members: int
    big_bot_id: int
    small_bot_id: int


def migrate_and_seed(members: int, *, log=print) -> World:
    """Run the real migrations on the (empty) app database, then seed both tenants. Needs an app context."""
    from flask_migrate import upgrade

    started = time.monotonic()
    upgrade()
    small = max(1_000, members // 100)
    big_id, big_bot = seed_tenant(BIG_SLUG, members, telegram_base=1_000_000_000, salt="big")
    small_id, small_bot = seed_tenant(SMALL_SLUG, small, telegram_base=2_000_000_000, salt="small")
    analyze()
    log(f"# seeded {members:,} + {small:,} members in {time.monotonic() - started:.0f} s")
    return World(big_id, small_id, members, small, big_bot, small_bot)


def seed_tenant(slug: str, members: int, *, telegram_base: int, salt: str) -> tuple[int, int]:
    """One tenant with its owner, bot, plan, the demo's three payment cards and `members` members with history;
    (tenant id, bot id)."""
    from app.extensions import db
    from app.models import Member, Plan
    from app.services import bots, cards, tenancy
    from app.services.demo import CARDS

    owner = tenancy.find_account(OWNER_EMAIL) or tenancy.create_account(OWNER_EMAIL, OWNER_PASSWORD)
    tenant = tenancy.create_tenant(slug, owner, slug=slug)
    bot = bots.create_bot(tenant, f"{telegram_base // 1000 + 7}:bench-token-{salt}", telegram_bot_id=telegram_base,
                          username=f"bench_{salt}_bot")
    plan = Plan(tenant_id=tenant.id, name="Monthly", price=150_000, period_days=30)
    db.session.add(plan)
    for number, holder, bank in CARDS:  # the rotation a real tenant's receipts name (P5 approves on them)
        cards.create_card(tenant, card_number=number, holder_name=holder, bank_name=bank)
    db.session.flush()
    params = {"tenant_id": tenant.id, "n": members, "salt": salt, "telegram_base": telegram_base, "plan_id": plan.id,
              "bot_id": bot.id, "owner_id": owner.id, "receipts": RECEIPTS, "code_prefix": f"B{salt[0].upper()}-",
              **_app_rules(tenant)}
    db.session.execute(sa.text(MEMBERS_SQL), params)
    params["first_id"] = db.session.scalar(sa.select(sa.func.min(Member.id)).where(Member.tenant_id == tenant.id))
    for statement in (RECEIPTS_SQL, LEDGER_SQL, BALANCES_SQL, SUBSCRIPTIONS_SQL, SESSIONS_SQL, BADGES_SQL):
        db.session.execute(sa.text(statement), params)
    tenant.last_daily_reset_day = params["today"]
    db.session.commit()
    return tenant.id, bot.id


def _app_rules(tenant) -> dict:
    """The seed's parameters read from the app's own definitions: the tenant's day (and yesterday's) in its time
    zone, its level table, and the automatic badges of levels and streaks."""
    from app.services import badges, clock, levels

    now = clock.now()
    tz = tenant.timezone or "Asia/Tehran"
    today = clock.local_day(tz, now)
    ladders = [(code, needed, True) for code, needed in badges.LEVEL_BADGES] + [
        (code, needed, False) for code, needed in badges.STREAK_BADGES]
    return {"now": now, "tz": tz, "today": today, "today_start": clock.day_bounds(tz, today)[0],
            "yesterday_start": clock.day_bounds(tz, today - timedelta(days=1))[0],
            "levels": list(levels.thresholds(tenant)), "badge_codes": [code for code, _, _ in ladders],
            "badge_needs": [needed for _, needed, _ in ladders], "badge_on_level": [on for _, _, on in ladders]}


def analyze() -> None:
    from app.extensions import db

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))


def find_world() -> World:
    """The World of an already seeded database (--database-url)."""
    from app.extensions import db
    from app.models import Bot, Member, Tenant

    def one(slug):
        tenant_id = db.session.scalar(sa.select(Tenant.id).where(Tenant.slug == slug))
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Member).where(Member.tenant_id == tenant_id))
        bot_id = db.session.scalar(sa.select(Bot.id).where(Bot.tenant_id == tenant_id))
        return tenant_id, count, bot_id

    (big, big_n, big_bot), (small, small_n, small_bot) = one(BIG_SLUG), one(SMALL_SLUG)
    return World(big, small, big_n, small_n, big_bot, small_bot)
