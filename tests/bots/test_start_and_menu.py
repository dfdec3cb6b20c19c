"""/start, the main menu, languages, banned members, unknown input and old buttons."""
from __future__ import annotations

import sqlalchemy as sa

from app.models import BotSession, Member
from app.services import settings
from bots.i18n import t


def members_of(db, tenant):
    return list(db.session.scalars(sa.select(Member).where(Member.tenant_id == tenant.id)))


def test_newcomer_then_returning_welcome_and_the_menu(db, shop, fleet):
    tenant, bot = shop
    sara = fleet.user(bot, first_name="Sara", language_code="en")

    sara.says("/start")
    first = sara.last()
    sara.says("/start")

    assert first["text"] == t("en", "start.welcome_new", name="Sara")
    assert "m:plans" in str(first["reply_markup"]) and "m:profile" in str(first["reply_markup"])
    assert sara.last_text() == t("en", "start.welcome_back", name="Sara")
    [member] = members_of(db, tenant)
    assert (member.telegram_id, member.language_code, member.first_name) == (sara.id, "en", "Sara")
    assert db.session.scalar(sa.select(sa.func.count(BotSession.id))) == 1


def test_language_guess_falls_back_to_the_tenant_default(db, make, fleet):
    tenant = make.tenant(default_language="ru")
    bot = make.bot(tenant)
    fleet.add(bot)
    german = fleet.user(bot, first_name="Hans", language_code="de")
    nobody = fleet.user(bot, first_name="Ali", language_code=None)

    german.says("/start")
    nobody.says("/start")

    assert german.last_text() == t("ru", "start.welcome_new", name="Hans")
    assert {m.language_code for m in members_of(db, tenant)} == {"ru"}


def test_choosing_a_language_is_saved_and_used(db, shop, fleet):
    tenant, bot = shop
    sara = fleet.user(bot, language_code="fa")
    sara.says("/start")

    sara.presses("m:lang")
    sara.presses("lang:ru")
    sara.says("/menu")

    assert sara.callback_answers()[-1] == t("ru", "language.saved")
    assert sara.last_text() == t("ru", "menu.title")
    assert members_of(db, tenant)[0].language_code == "ru"


def test_the_welcome_text_setting_greets_newcomers(db, shop, fleet):
    tenant, bot = shop
    settings.update(bot, {"welcome_text": {"fa": "به فروشگاه ما خوش آمدید", "en": "Welcome to the shop"}}, by="system")
    db.session.commit()
    sara = fleet.user(bot, language_code="en")

    sara.says("/start")

    assert sara.last_text() == "Welcome to the shop"


def test_a_member_is_shared_by_the_bots_of_a_tenant_with_one_session_each(db, make, fleet):
    tenant = make.tenant()
    first, second = make.bot(tenant), make.bot(tenant)
    fleet.add(first), fleet.add(second)
    sara_one = fleet.user(first, language_code="en")
    sara_two = fleet.user(second, user_id=sara_one.id, language_code="en")

    sara_one.says("/start")
    sara_two.says("/start")

    assert len(members_of(db, tenant)) == 1
    assert sara_two.last_text() == t("en", "start.welcome_back", name="Sara")
    assert db.session.scalar(sa.select(sa.func.count(BotSession.id))) == 2


def test_a_banned_member_gets_one_short_message_and_nothing_else(db, shop, fleet, make):
    tenant, bot = shop
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    member = members_of(db, tenant)[0]
    member.is_banned = True
    db.session.commit()
    before = len(sara.bot_messages())

    sara.says("/start")
    sara.presses("m:profile")

    new = sara.bot_messages()[before:]
    assert [m["text"] for m in new] == [t("en", "banned")]
    assert sara.callback_answers()[-1] == t("en", "banned")


def test_unknown_text_and_content_get_the_menu_and_old_buttons_a_clear_answer(db, shop, fleet):
    tenant, bot = shop
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")

    sara.says("what is this?")
    assert sara.last_text() == t("en", "fallback.text")
    sara.sends_raw({"message": {"message_id": 999, "date": 1, "chat": {"id": sara.id, "type": "private"},
                                "from": {**sara.profile, "is_bot": False}, "sticker": {"file_id": "s1", "file_unique_id": "u1",
                                "type": "regular", "width": 1, "height": 1, "is_animated": False,
                                "is_video": False}}})
    assert sara.last_text() == t("en", "fallback.unsupported")
    sara.presses("no-such:thing", message=sara.last())
    sara.presses("pl:999999", message=sara.last())

    assert sara.callback_answers()[-2:] == [t("en", "stale.button"), t("en", "stale.plan")]
