"""Media, pins and group administration in the sandbox, driven by pyTelegramBotAPI over HTTP."""

import io
import time

import pytest
from telebot import types
from telebot.apihelper import ApiTelegramException

GROUP = -1001234


def error_of(call):
    with pytest.raises(ApiTelegramException) as raised:
        call()
    return raised.value.error_code, raised.value.description


def test_album_shares_one_group_and_needs_two_to_ten_items(make_bot, png_bytes):
    bot, _ = make_bot()
    album = [types.InputMediaPhoto(io.BytesIO(png_bytes), "*one*", parse_mode="Markdown"),
             types.InputMediaDocument(io.BytesIO(b"notes"))]

    sent = bot.send_media_group(1, album)

    assert len({message.media_group_id for message in sent}) == 1
    assert sent[0].caption_entities[0].type == "bold" and sent[1].document.file_size == 5
    assert error_of(lambda: bot.send_media_group(1, album[:1])) == (
        400, "Bad Request: wrong number of media specified")


def test_pinned_message_shows_in_get_chat_until_unpinned(make_bot):
    bot, _ = make_bot()
    first, second = bot.send_message(GROUP, "first"), bot.send_message(GROUP, "second")
    bot.pin_chat_message(GROUP, first.message_id)
    bot.pin_chat_message(GROUP, second.message_id)

    bot.unpin_chat_message(GROUP, second.message_id)

    assert bot.get_chat(GROUP).pinned_message.text == "first"
    bot.unpin_all_chat_messages(GROUP)
    assert bot.get_chat(GROUP).pinned_message is None


def test_invite_links_follow_telegrams_rules(make_bot):
    bot, bot_id = make_bot()
    link = bot.create_chat_invite_link(GROUP, name="vip", creates_join_request=True)

    edited = bot.edit_chat_invite_link(GROUP, link.invite_link, member_limit=3)

    assert (edited.member_limit, edited.creates_join_request, edited.name) == (3, False, None)
    assert error_of(lambda: bot.create_chat_invite_link(
        GROUP, member_limit=2, creates_join_request=True))[0] == 400
    assert error_of(lambda: bot.create_chat_invite_link(
        GROUP, expire_date=int(time.time()) - 5)) == (400, "Bad Request: EXPIRE_DATE_INVALID")
    assert bot.revoke_chat_invite_link(GROUP, link.invite_link).is_revoked
    assert error_of(lambda: bot.edit_chat_invite_link(GROUP, link.invite_link, member_limit=1)) == (
        400, "Bad Request: INVITE_HASH_EXPIRED")
    assert bot.get_chat_member(GROUP, bot_id).can_invite_users is True


def test_exporting_a_primary_link_revokes_the_previous_one(make_bot):
    bot, _ = make_bot()
    first = bot.export_chat_invite_link(GROUP)

    second = bot.export_chat_invite_link(GROUP)

    assert first != second
    assert error_of(lambda: bot.revoke_chat_invite_link(GROUP, "https://t.me/+nope"))[0] == 400


def test_places_dice_and_polls(make_bot):
    bot, _ = make_bot()

    dice = bot.send_dice(1, emoji="🎰")
    poll = bot.send_poll(1, "Plan?", ["Monthly", "Yearly"], is_anonymous=False)

    assert 1 <= dice.dice.value <= 64
    assert [option.text for option in poll.poll.options] == ["Monthly", "Yearly"]
    assert bot.stop_poll(1, poll.message_id).is_closed
    assert error_of(lambda: bot.send_location(1, 91, 0)) == (
        400, "Bad Request: wrong latitude or longitude specified")
    assert error_of(lambda: bot.get_chat_administrators(1))[0] == 400
