"""Growth in the bot: a purchase congratulates a level up, and the profile shows the badge it earned."""
from __future__ import annotations

from datetime import UTC, date, datetime, timezone

import sqlalchemy as sa

from app.models import Receipt
from app.services import clock, promocodes, receipt_announcements, receipts
from bots import formatting as fmt
from bots import notify
from bots.i18n import t
from tests.bots.conftest import ADMIN_ID
from tests.bots.test_member_screens import member_of


def test_a_purchase_shows_a_level_up_and_the_profile_shows_the_badge(db, make, fleet, card_shop):
    tenant, bot = card_shop
    plan = make.plan(tenant, name="Gold", price=1_000_000)  # 100 XP at the default rate: level 2
    member = make.member(tenant, balance=1_000_000, telegram_id=4343, language_code="en")
    sara = fleet.user(bot, user_id=member.telegram_id, language_code="en")
    sara.says("/start")
    sara.presses("m:plans")
    sara.presses(f"pl:{plan.id}")

    sara.presses(f"pb:{plan.id}")

    assert "Gold" in sara.last_text()
    assert t("en", "growth.level_up", level="2") in sara.last_text()
    assert t("en", "growth.badge", badge=t("en", "badge.first_purchase")) in sara.last_text()
    assert (member_of(db, tenant, member.telegram_id).level, member_of(db, tenant, member.telegram_id).total_xp) \
        == (2, 105)  # 100 for the purchase, 5 for the first visit of the day
    sara.says("/profile")
    assert t("en", "profile.badges", badges="🛒 " + t("en", "badge.first_purchase")) in sara.last_text()
    assert t("en", "profile.xp", xp="105", level="2", rank="1") in sara.last_text()


def test_a_promo_code_typed_in_the_bot_is_redeemed_once(db, make, fleet, shop):
    tenant, bot = shop
    promocodes.create_promocode(tenant, code="SPRING", kind="balance", value=5_000)
    db.session.commit()
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    sara.presses("m:promo")
    sara.says("spring")
    assert sara.last_text() == t("en", "promo.redeemed_balance", code="SPRING", amount=fmt.money("en", 5_000))
    sara.says("/start promo_SPRING")
    assert "already used" in sara.last_text()
    assert member_of(db, tenant, sara.id).balance == 5_000


def test_the_first_message_of_the_day_gives_the_daily_xp_once(db, make, fleet, shop):
    tenant, bot = shop
    tenant.settings = {"xp_daily_visit": 7}
    db.session.commit()
    sara = fleet.user(bot, language_code="en")
    evening = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)      # 23:30 on 10 March in Tehran
    with clock.frozen(evening):
        sara.says("/start")
        first = member_of(db, tenant, sara.id)
        assert (first.total_xp, first.xp_today, first.streak_days) == (7, 7, 1)
        sara.says("/profile")
        assert member_of(db, tenant, sara.id).total_xp == 7
    with clock.frozen(evening.replace(hour=21)):                   # 00:30 on 11 March in Tehran
        sara.says("/profile")
    fresh = member_of(db, tenant, sara.id)
    assert (fresh.total_xp, fresh.streak_days, fresh.last_visit_day) == (14, 2, date(2026, 3, 11))


def test_a_card_purchase_approved_in_the_admin_chat_shows_the_rewards(db, make, fleet, card_shop, png):
    tenant, bot = card_shop
    tenant.settings = {"referral_bonus_toman": 20_000, "referral_bonus_xp": 30}
    plan = make.plan(tenant, name="Gold", price=1_000_000)  # 100 XP at the default rate: level 2
    ali = make.member(tenant, telegram_id=5151, first_name="Ali", language_code="en")
    db.session.commit()
    inviter = fleet.user(bot, user_id=ali.telegram_id, language_code="en")
    fleet.open_chat(ali.telegram_id, bot.telegram_bot_id)  # Ali is a member: he started the bot
    sara = fleet.user(bot, language_code="en")
    admin = fleet.user(bot, user_id=ADMIN_ID)
    sara.says(f"/start ref_{ali.referral_code}")
    sara.presses("m:plans")
    sara.presses(f"pl:{plan.id}")
    sara.presses(f"pc:{plan.id}")
    sara.sends_photo(png)
    receipt = db.session.scalar(sa.select(Receipt))

    admin.presses(f"ra:{receipt.id}")

    told = sara.last_text()
    assert told.startswith(t("en", "payments.approved_plan", code=receipt.tracking_code, plan="Gold", end="")[:20])
    assert t("en", "growth.level_up", level="2") in told
    assert t("en", "growth.badge", badge=t("en", "badge.first_purchase")) in told
    assert inviter.last_text() == t("en", "growth.referral_bonus", amount="20,000 Toman", xp="30")
    assert member_of(db, tenant, ali.telegram_id).balance == 20_000


def test_a_dashboard_approval_tells_the_member_the_new_badge_after_the_commit(db, make, fleet, card_shop, png):
    tenant, bot = card_shop
    plan = make.plan(tenant, name="Gold", price=200_000)
    approver = make.staff(tenant, "approver")
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    sara.presses("m:plans")
    sara.presses(f"pl:{plan.id}")
    sara.presses(f"pc:{plan.id}")
    sara.sends_photo(png)
    receipt = db.session.scalar(sa.select(Receipt))

    receipts.approve(receipt, receipts.Reviewer(account=approver))      # what the dashboard route does
    receipt_announcements.announce_decision(receipt)
    assert not sara.last_text().endswith(t("en", "growth.badge", badge=t("en", "badge.first_purchase")))
    db.session.commit()
    db.session.expunge_all()  # a worker loads the receipt afresh (no `rewards`): the badge travels in the row
    fleet.deliver_outbox()

    assert sara.last_text().endswith(t("en", "growth.badge", badge=t("en", "badge.first_purchase")))
