"""aiogram 3 (aiohttp, pydantic models) against the sandbox; it uploads every file as attach://."""

import asyncio

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
    Update,
)

from tests.conformance import expected
from tests.conformance.conftest import USER_ID
from tests.waiting import wait_for

pytestmark = pytest.mark.timeout(60)


def aiogram_bot(sandbox, token):
    """An aiogram Bot whose requests go to the sandbox instead of api.telegram.org."""
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(sandbox.url)))


def run_with_bot(sandbox, token, scenario):
    """Run `await scenario(bot)` with an aiogram Bot, closing its session afterwards."""
    async def main():
        bot = aiogram_bot(sandbox, token)
        try:
            return await scenario(bot)
        finally:
            await bot.session.close()
    return asyncio.run(main())


def entities_json(entities):
    return [entity.model_dump(exclude_none=True) for entity in entities or []]


def test_get_me_polling_commands_and_webhook(sandbox, bot_with_user):
    token, bot_id = bot_with_user

    async def scenario(bot):
        me = await bot.get_me()
        updates = await bot.get_updates(timeout=1)
        await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
        await bot.set_my_commands([BotCommand(command="start", description="Start")])
        commands = await bot.get_my_commands()
        await bot.set_webhook("http://127.0.0.1:9/hook", allowed_updates=["callback_query"])
        await bot.set_webhook("http://127.0.0.1:9/other")  # no allowed_updates: the list is kept
        info = await bot.get_webhook_info()
        with pytest.raises(TelegramConflictError) as conflict:
            await bot.get_updates()
        return me, updates, commands, info, conflict.value

    me, updates, commands, info, conflict = run_with_bot(sandbox, token, scenario)

    assert (me.id, me.is_bot, me.username) == (bot_id, True, f"conf{bot_id}_bot")
    assert [update.message.text for update in updates] == ["hi"]
    assert [(c.command, c.description) for c in commands] == [("start", "Start")]
    assert (info.url, info.allowed_updates, info.pending_update_count) == (
        "http://127.0.0.1:9/other", ["callback_query"], 0)
    assert conflict.message == expected.WEBHOOK_CONFLICT
    unsubscribed = sandbox.user_writes(bot_id, "a message type the bot did not ask for")
    assert (unsubscribed["delivered"], unsubscribed["update_id"]) == (False, None)


@pytest.mark.parametrize("parse_mode, sent, shown, entities", expected.FORMATTED)
def test_formatting_gives_telegrams_entities(sandbox, bot_with_user, parse_mode, sent, shown,
                                             entities):
    async def scenario(bot):
        return await bot.send_message(USER_ID, sent, parse_mode=parse_mode)

    message = run_with_bot(sandbox, bot_with_user[0], scenario)

    assert message.text == shown
    assert entities_json(message.entities) == entities


@pytest.mark.parametrize("parse_mode, sent, description", expected.PARSE_ERRORS)
def test_formatting_errors(sandbox, bot_with_user, parse_mode, sent, description):
    async def scenario(bot):
        with pytest.raises(TelegramBadRequest) as raised:
            await bot.send_message(USER_ID, sent, parse_mode=parse_mode)
        return raised.value

    assert run_with_bot(sandbox, bot_with_user[0], scenario).message == description


def test_entities_parameter(sandbox, bot_with_user):
    async def scenario(bot):
        return await bot.send_message(USER_ID, "Hello world",
                                      entities=[MessageEntity(type="code", offset=0, length=5)])

    message = run_with_bot(sandbox, bot_with_user[0], scenario)
    assert entities_json(message.entities) == [{"type": "code", "offset": 0, "length": 5}]


def test_attach_uploads_and_download(sandbox, bot_with_user, png):
    async def scenario(bot):
        photo = await bot.send_photo(USER_ID, BufferedInputFile(png, "receipt.png"),
                                     caption="<i>paid</i>", parse_mode="HTML")
        document = await bot.send_document(USER_ID, BufferedInputFile(b"a,b\n1,2\n", "t.csv"))
        again = await bot.send_photo(USER_ID, photo.photo[-1].file_id)
        downloaded = await bot.download(document.document.file_id)
        return photo, document, again, downloaded.read()

    photo, document, again, downloaded = run_with_bot(sandbox, bot_with_user[0], scenario)

    assert (photo.photo[-1].width, photo.photo[-1].height) == (2, 3)
    assert photo.caption == "paid" and entities_json(photo.caption_entities) == [
        {"type": "italic", "offset": 0, "length": 4}]
    assert document.document.file_name == "t.csv" and downloaded == b"a,b\n1,2\n"
    assert again.photo[-1].file_unique_id == photo.photo[-1].file_unique_id
    uploads = [call["params"] for call in sandbox.get("/sandbox/calls")["calls"]
               if call["method"] in ("sendPhoto", "sendDocument")]
    assert uploads[0]["photo"] == {"file_name": "receipt.png", "size": len(png)}


def test_callback_answer_edit_and_delete(sandbox, bot_with_user):
    token, bot_id = bot_with_user
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text="Buy", callback_data="buy")]])

    async def scenario(bot):
        offer = await bot.send_message(USER_ID, "Plan", reply_markup=keyboard)
        await asyncio.to_thread(sandbox.user_taps, bot_id, offer.message_id, "buy")
        updates = await bot.get_updates(offset=-1, timeout=1)
        query = updates[-1].callback_query
        answered = await bot.answer_callback_query(query.id, text="Saved")
        edited = await bot.edit_message_text(text="Plan (bought)", chat_id=USER_ID,
                                             message_id=offer.message_id)
        deleted = await bot.delete_message(USER_ID, offer.message_id)
        return query, answered, edited, deleted

    query, answered, edited, deleted = run_with_bot(sandbox, token, scenario)

    assert (query.data, answered, edited.text, deleted) == ("buy", True, "Plan (bought)", True)
    assert [(a["text"], a["show_alert"]) for a in sandbox.callback_answers(bot_id)] == [
        ("Saved", False)]


def test_error_envelopes_and_limits(sandbox, bot_with_user):
    token, bot_id = bot_with_user
    sandbox.post("/sandbox/chats", {"chat_id": 555, "bot_id": bot_id, "blocked": True})

    async def scenario(bot):
        with pytest.raises(TelegramBadRequest) as not_found:
            await bot.send_message(999_999, "hello")
        with pytest.raises(TelegramForbiddenError) as blocked:
            await bot.send_message(555, "hello")
        with pytest.raises(TelegramBadRequest) as too_long:
            await bot.send_message(USER_ID, "x" * 4097)
        await asyncio.to_thread(sandbox.post, "/sandbox/rate-limit",
                                {"bot_id": bot_id, "per_second": 1})
        await bot.send_message(USER_ID, "first")
        with pytest.raises(TelegramRetryAfter) as limited:
            await bot.send_message(USER_ID, "second")
        return not_found.value, blocked.value, too_long.value, limited.value

    not_found, blocked, too_long, limited = run_with_bot(sandbox, token, scenario)

    assert not_found.message == expected.CHAT_NOT_FOUND
    assert blocked.message == expected.BLOCKED
    assert too_long.message == expected.TOO_LONG_TEXT
    assert limited.retry_after == 1


def test_get_chat_parses_as_chat_full_info(sandbox, bot_with_user):
    async def scenario(bot):
        return await bot.get_chat(USER_ID)

    chat = run_with_bot(sandbox, bot_with_user[0], scenario)

    assert type(chat).__name__ == "ChatFullInfo"
    assert (chat.id, chat.type, chat.first_name) == (USER_ID, "private", "Sara")
    assert chat.accepted_gift_types.unlimited_gifts in (True, False)


def test_webhook_update_parses_and_a_method_in_the_answer_is_executed(sandbox, bot_with_user,
                                                                      webhook_receiver):
    token, bot_id = bot_with_user

    async def scenario(bot):
        await bot.set_webhook(webhook_receiver.url)

    run_with_bot(sandbox, token, scenario)
    webhook_receiver.wait_for_deliveries(1)  # the user's "hi"
    webhook_receiver.reply = {"method": "sendMessage", "chat_id": USER_ID, "text": "answered "
                              "in the webhook response"}
    sandbox.user_writes(bot_id, "/help")
    body, _ = webhook_receiver.wait_for_deliveries(2)[-1]

    assert Update.model_validate(body).message.text == "/help"
    def bot_texts():
        return [m["text"] for m in sandbox.messages(bot_id) if m["from_bot"]]
    assert wait_for(bot_texts, timeout=5) == ["answered in the webhook response"]
