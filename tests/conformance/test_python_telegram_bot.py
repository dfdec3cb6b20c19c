"""python-telegram-bot (async, httpx) against the sandbox; its models are strict about required fields."""

import asyncio

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity, Update
from telegram.error import BadRequest, Conflict, Forbidden, RetryAfter

from tests.conformance import expected
from tests.conformance.conftest import USER_ID

pytestmark = pytest.mark.timeout(60)


def ptb_message(description):
    """PTB drops "Bad Request: " from a description and capitalizes the rest (str.capitalize)."""
    stripped = description.removeprefix("Bad Request: ")
    return stripped.capitalize() if stripped != description else description


def run_with_bot(sandbox, token, scenario):
    """Run `await scenario(bot)` with an initialized PTB Bot pointed at the sandbox."""
    async def main():
        async with Bot(token, base_url=f"{sandbox.url}/bot",
                       base_file_url=f"{sandbox.url}/file/bot") as bot:
            return await scenario(bot)
    return asyncio.run(main())


def entities_json(entities):
    return [entity.to_dict() for entity in entities]


def test_get_me_polling_and_webhook_info(sandbox, bot_with_user):
    token, bot_id = bot_with_user

    async def scenario(bot):
        me = await bot.get_me()
        updates = await bot.get_updates(timeout=1)
        assert await bot.set_webhook("http://127.0.0.1:9/hook", allowed_updates=["message"])
        info = await bot.get_webhook_info()
        with pytest.raises(Conflict) as conflict:
            await bot.get_updates()
        await bot.delete_webhook()
        return me, updates, info, conflict.value

    me, updates, info, conflict = run_with_bot(sandbox, token, scenario)

    assert (me.id, me.is_bot, me.username) == (bot_id, True, f"conf{bot_id}_bot")
    assert [update.message.text for update in updates] == ["hi"]
    # "hi" was fetched but never confirmed with an offset, so it still waits.
    assert (info.url, info.pending_update_count, info.allowed_updates) == (
        "http://127.0.0.1:9/hook", 1, ("message",))
    assert conflict.message == expected.WEBHOOK_CONFLICT


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
        with pytest.raises(BadRequest) as raised:
            await bot.send_message(USER_ID, sent, parse_mode=parse_mode)
        return raised.value

    assert run_with_bot(sandbox, bot_with_user[0], scenario).message == ptb_message(description)


def test_entities_parameter_and_message_thread_id(sandbox, bot_with_user):
    async def scenario(bot):
        return await bot.send_message(USER_ID, "Hello world", message_thread_id=7,
                                      entities=[MessageEntity("italic", 6, 5)])

    message = run_with_bot(sandbox, bot_with_user[0], scenario)

    assert entities_json(message.entities) == [{"type": "italic", "offset": 6, "length": 5}]
    assert message.message_thread_id == 7


def test_upload_under_the_field_name_and_download(sandbox, bot_with_user, png):
    async def scenario(bot):
        photo = await bot.send_photo(USER_ID, photo=png, caption="*paid*", parse_mode="MarkdownV2")
        document = await bot.send_document(USER_ID, document=b"%PDF-1.4 fake", filename="r.pdf")
        file = await bot.get_file(document.document.file_id)
        return photo, document, bytes(await file.download_as_bytearray())

    photo, document, downloaded = run_with_bot(sandbox, bot_with_user[0], scenario)

    assert (photo.photo[-1].width, photo.photo[-1].height) == (2, 3)
    assert photo.caption == "paid" and entities_json(photo.caption_entities) == [
        {"type": "bold", "offset": 0, "length": 4}]
    assert (document.document.file_name, document.document.mime_type) == ("r.pdf",
                                                                          "application/pdf")
    assert downloaded == b"%PDF-1.4 fake"


def test_callback_answer_and_edit(sandbox, bot_with_user):
    token, bot_id = bot_with_user
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Buy", callback_data="buy")]])

    async def scenario(bot):
        offer = await bot.send_message(USER_ID, "Plan", reply_markup=keyboard)
        await asyncio.to_thread(sandbox.user_taps, bot_id, offer.message_id, "buy")
        updates = await bot.get_updates(offset=-1, timeout=1)
        query = updates[-1].callback_query
        answered = await query.answer("Refused: balance too low", show_alert=True)
        edited = await query.edit_message_text("Plan (refused)")
        return query, answered, edited

    query, answered, edited = run_with_bot(sandbox, token, scenario)

    assert (query.data, answered, edited.text) == ("buy", True, "Plan (refused)")
    assert sandbox.callback_answers(bot_id)[0]["show_alert"] is True


def test_error_envelopes(sandbox, bot_with_user):
    token, bot_id = bot_with_user
    sandbox.post("/sandbox/chats", {"chat_id": 555, "bot_id": bot_id, "blocked": True})

    async def scenario(bot):
        errors = []
        for chat_id in (999_999, 555):
            try:
                await bot.send_message(chat_id, "hello")
            except (BadRequest, Forbidden) as error:
                errors.append(error)
        await asyncio.to_thread(sandbox.post, "/sandbox/rate-limit",
                                {"bot_id": bot_id, "per_second": 1})
        await bot.send_message(USER_ID, "first")
        with pytest.raises(RetryAfter) as limited:
            await bot.send_message(USER_ID, "second")
        return errors, limited.value

    (not_found, blocked), limited = run_with_bot(sandbox, token, scenario)

    assert isinstance(not_found, BadRequest) and not_found.message == "Chat not found"
    assert isinstance(blocked, Forbidden) and blocked.message == expected.BLOCKED
    assert limited.retry_after in (1, __import__("datetime").timedelta(seconds=1))


def test_get_chat_parses_as_chat_full_info(sandbox, bot_with_user):
    async def scenario(bot):
        return await bot.get_chat(USER_ID)

    chat = run_with_bot(sandbox, bot_with_user[0], scenario)

    assert type(chat).__name__ == "ChatFullInfo"
    assert (chat.id, chat.type, chat.first_name, chat.username) == (USER_ID, "private", "Sara",
                                                                    "sara")
    assert isinstance(chat.max_reaction_count, int) and chat.accepted_gift_types is not None


def test_a_webhook_update_parses_as_ptb_update(sandbox, bot_with_user, webhook_receiver):
    token, bot_id = bot_with_user

    async def scenario(bot):
        await bot.set_webhook(webhook_receiver.url, secret_token="s3cret")

    run_with_bot(sandbox, token, scenario)
    sandbox.user_writes(bot_id, "via webhook https://example.com")
    body, secret = webhook_receiver.wait_for_deliveries(2)[-1]  # after the user's "hi"

    update = Update.de_json(body, None)
    assert (update.message.text, secret) == ("via webhook https://example.com", "s3cret")
    assert entities_json(update.message.entities) == [{"type": "url", "offset": 12, "length": 19}]
