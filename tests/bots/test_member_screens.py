"""Profile, leaderboard, support, daily requests, referrals, promo codes and feature flags."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import sqlalchemy as sa

from app.models import BotSession, Member, Subscription
from app.services import quota, settings
from app.services.clock import tenant_today
from bots import formatting as fmt
from bots.i18n import t


def member_of(db, tenant, telegram_id) -> Member:
    db.session.expire_all()
    return db.session.scalar(sa.select(Member).where(Member.tenant_id == tenant.id, Member.telegram_id == telegram_id))


def started(fleet, bot, **kw):
    user = fleet.user(bot, **kw)
    user.says("/start")
    return user


def test_profile_shows_id_date_balance_subscription_requests_xp_level_and_rank(db, shop, fleet, make):
    tenant, bot = shop
    make.member(tenant, telegram_id=1, total_xp=500)
    sara = started(fleet, bot, language_code="fa")
    member = member_of(db, tenant, sara.id)
    member.total_xp, member.level = 120, 2
    db.session.commit()

    sara.presses("m:profile")

    text = sara.last_text()
    assert fmt.digits("fa", sara.id) not in text and str(sara.id) in text  # ids stay copyable
    assert fmt.date("fa", member.created_at, tenant.timezone) in text and "/" in text
    assert t("fa", "profile.balance", balance=fmt.money("fa", 0)) in text
    assert t("fa", "profile.no_subscription") in text
    assert t("fa", "profile.requests", used="۰", limit="۲۵") in text
    assert t("fa", "profile.xp", xp="۱۲۰", level="۲", rank="۲") in text


def test_profile_in_english_shows_the_subscription_and_its_end(db, shop, fleet, make):
    tenant, bot = shop
    sara = started(fleet, bot, language_code="en")
    plan = make.plan(tenant, name="Gold", daily_request_quota=300)
    ends = datetime(2030, 3, 1, 12, tzinfo=UTC)
    db.session.add(Subscription(tenant_id=tenant.id, member_id=member_of(db, tenant, sara.id).id, plan_id=plan.id,
                                starts_at=ends - timedelta(days=30), ends_at=ends, source="grant"))
    db.session.commit()

    sara.presses("m:profile")

    assert t("en", "profile.subscription", plan="Gold", end="2030-03-01") in sara.last_text()
    assert t("en", "profile.requests", used="0", limit="300") in sara.last_text()


def test_use_service_counts_and_refuses_politely_at_the_limit(db, shop, fleet):
    tenant, bot = shop
    tenant.settings = {"daily_quota_free": 2}
    db.session.commit()
    sara = started(fleet, bot, language_code="en")

    sara.presses("m:use", message=sara.last())
    sara.presses("m:use", message=sara.last())
    assert sara.last_text() == t("en", "quota.used", used="2", limit="2")
    sara.presses("m:use", message=sara.last())

    reset = fmt.date_time("en", quota.next_reset(tenant), tenant.timezone)
    assert sara.last_text() == t("en", "quota.exhausted", limit="2", reset=reset)
    assert reset.endswith("00:00")
    assert sara.callback_answers()[-1] == t("en", "quota.exhausted_short")
    assert db.session.scalar(sa.select(BotSession.daily_requests)) == 2


def test_premium_members_get_the_premium_quota(db, shop, fleet):
    tenant, bot = shop
    sara = started(fleet, bot, language_code="en")
    member = member_of(db, tenant, sara.id)
    member.vip_level = 1
    db.session.commit()

    sara.presses("m:use", message=sara.last())

    assert sara.last_text() == t("en", "quota.used", used="1", limit="1,000")


def test_yesterdays_requests_do_not_count_today(db, shop, fleet):
    tenant, bot = shop
    tenant.settings = {"daily_quota_free": 1}
    sara = started(fleet, bot, language_code="en")
    session = db.session.scalar(sa.select(BotSession))
    session.daily_requests, session.daily_requests_day = 1, tenant_today(tenant) - timedelta(days=1)
    db.session.commit()

    sara.presses("m:use", message=sara.last())

    assert sara.last_text() == t("en", "quota.used", used="1", limit="1")


def test_leaderboard_lists_the_top_ten_and_your_rank(db, shop, fleet, make):
    tenant, bot = shop
    for n in range(12):
        make.member(tenant, telegram_id=100 + n, first_name=f"P{n:02d}", total_xp=1000 + n)
    sara = started(fleet, bot, language_code="en")

    sara.presses("m:top")

    lines = sara.last_text().splitlines()
    assert lines[1] == t("en", "leaderboard.row", rank="1", name="P11", xp="1,011")
    assert len([line for line in lines if " XP" in line and line[0].isdigit()]) == 10
    assert "P01" not in sara.last_text()
    assert t("en", "leaderboard.you", rank="13", xp="5").strip() in sara.last_text()


def test_support_shows_the_contact_or_says_there_is_none(db, shop, fleet):
    tenant, bot = shop
    sara = started(fleet, bot, language_code="en")
    sara.presses("m:support")
    assert sara.last_text() == t("en", "support.none")

    settings.update(bot, {"support_contact": "@shop_help"}, by="system")
    db.session.commit()
    sara.presses("m:home")
    sara.presses("m:support")

    assert sara.last_text() == t("en", "support.contact", contact="@shop_help")


def test_a_referral_link_sets_the_referrer_once_and_never_oneself(db, shop, fleet, make):
    tenant, bot = shop
    ali = make.member(tenant, telegram_id=555, first_name="Ali")
    reza = make.member(tenant, telegram_id=556, first_name="Reza")
    sara = fleet.user(bot, language_code="en")

    sara.says(f"/start ref_{ali.referral_code}")
    assert sara.last_text() == t("en", "referral.joined", name="Ali")
    sara.says(f"/start ref_{reza.referral_code}")
    me = member_of(db, tenant, sara.id)
    sara.says(f"/start ref_{me.referral_code}")

    assert member_of(db, tenant, sara.id).referred_by_id == ali.id
    sara.presses("m:ref", message=sara.message_with_button("m:ref"))
    assert f"?start=ref_{me.referral_code}" in sara.last_text()


def test_a_referral_loop_and_another_tenants_code_are_refused(db, shop, fleet, make):
    tenant, bot = shop
    sara = started(fleet, bot)
    me = member_of(db, tenant, sara.id)
    ali = make.member(tenant, telegram_id=557, referred_by_id=me.id)
    stranger = make.member(make.tenant(), telegram_id=558)

    sara.says(f"/start ref_{ali.referral_code}")
    sara.says(f"/start ref_{stranger.referral_code}")

    assert member_of(db, tenant, sara.id).referred_by_id is None


def test_feature_flags_hide_menu_entries_and_refuse_old_buttons(db, shop, fleet):
    tenant, bot = shop
    sara = started(fleet, bot, language_code="en")
    old_menu = sara.last()
    settings.update(bot, {flag.key: False for flag in bot.feature_flags}, by="system")
    db.session.commit()

    sara.says("/menu")
    for data in ("m:use", "m:top", "m:promo", "m:ref", "m:topup"):
        sara.presses(data, message=old_menu)

    shown = str(sara.last()["reply_markup"])
    assert all(d not in shown for d in ("m:use", "m:top", "m:promo", "m:ref", "m:topup"))
    assert "m:plans" in shown and "m:profile" in shown
    assert sara.callback_answers()[-5:] == [t("en", "feature.off")] * 5


def test_my_subscriptions_lists_status_end_and_traffic(db, shop, fleet, make):
    tenant, bot = shop
    sara = started(fleet, bot, language_code="en")
    member = member_of(db, tenant, sara.id)
    gold, old = make.plan(tenant, name="Gold", traffic_gb=50), make.plan(tenant, name="Old")
    ends = datetime(2031, 1, 1, 12, tzinfo=UTC)
    db.session.add_all([
        Subscription(tenant_id=tenant.id, member_id=member.id, plan_id=gold.id, starts_at=ends - timedelta(days=30),
                     ends_at=ends, source="grant", traffic_limit_bytes=50 * 1024 ** 3,
                     traffic_used_bytes=5 * 1024 ** 3),
        Subscription(tenant_id=tenant.id, member_id=member.id, plan_id=old.id, status="expired",
                     starts_at=ends - timedelta(days=400), ends_at=ends - timedelta(days=370), source="grant")])
    db.session.commit()

    sara.presses("m:subs")

    lines = sara.last_text().splitlines()
    assert lines[1] == t("en", "subscriptions.item", plan="Gold", status="active", end="2031-01-01",
                         traffic=t("en", "traffic.used", used="5.0", limit="50.0"))
    assert lines[2].startswith("• Old — expired") and t("en", "traffic.unlimited") in lines[2]


def test_the_quota_resets_at_the_tenants_own_midnight(make):
    from app.services import clock

    tehran, tokyo = make.tenant(timezone="Asia/Tehran"), make.tenant(timezone="Asia/Tokyo")
    with clock.frozen(datetime(2026, 1, 1, 21, 0, tzinfo=UTC)):  # 00:30 on 2 Jan in Tehran
        assert quota.next_reset(tehran) == datetime(2026, 1, 2, 20, 30, tzinfo=UTC)
        assert quota.next_reset(tokyo) == datetime(2026, 1, 2, 15, 0, tzinfo=UTC)
