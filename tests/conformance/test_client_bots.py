"""Whole bots written with aiogram and with python-telegram-bot, polling the sandbox: each uploads a
photo, receives a button tap and answers it, edits its message and downloads a file a user sent."""

import asyncio
import base64

import pytest
from aiogram import Dispatcher, F, Router
from aiogram.filters import CommandStart
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from telegram import InlineKeyboardButton as PtbButton
from telegram import InlineKeyboardMarkup as PtbKeyboard
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from tests.conformance.conftest import USER_ID
from tests.conformance.test_aiogram import aiogram_bot
from tests.waiting import wait_for

pytestmark = pytest.mark.timeout(90)
DOCUMENT = b"ten bytes!"


def user_journey(sandbox, bot_id):
    """What the user does and sees; returns the bot's messages at the end."""
    def bot_messages():
        return [m for m in sandbox.messages(bot_id) if m["from_bot"]]

    sandbox.user_writes(bot_id, "/start")
    [offer] = wait_for(bot_messages, timeout=15) or pytest.fail("no answer to /start")
    assert offer["photo"] and offer["caption"] == "Offer"
    sandbox.user_taps(bot_id, offer["message_id"], "approve")
    assert wait_for(lambda: bot_messages()[0]["caption"] == "Offer (approved)", timeout=15)
    assert [a["text"] for a in sandbox.callback_answers(bot_id)] == ["Approved"]
    sandbox.post("/sandbox/updates", {"bot_id": bot_id, "from": {"id": USER_ID, "first_name": "Sara"},
                                      "document": base64.b64encode(DOCUMENT).decode(),
                                      "file_name": "note.txt"})
    assert wait_for(lambda: len(bot_messages()) == 2, timeout=15)
    return bot_messages()


def aiogram_router(png):
    router = Router()

    @router.message(CommandStart())
    async def start(message):
        markup = InlineKeyboardMarkup(inline_keyboard=[[
            InlineKeyboardButton(text="Approve", callback_data="approve")]])
        await message.answer_photo(BufferedInputFile(png, "offer.png"), caption="Offer",
                                   reply_markup=markup)

    @router.callback_query(F.data == "approve")
    async def approve(query):
        await query.answer("Approved")
        await query.message.edit_caption(caption="Offer (approved)")

    @router.message(F.document)
    async def document(message, bot):
        data = (await bot.download(message.document)).read()
        await message.answer(f"got {len(data)} bytes: {data.decode()}")

    return router


def test_an_aiogram_bot(sandbox, png):
    token, bot_id = sandbox.new_bot()
    dispatcher = Dispatcher()
    dispatcher.include_router(aiogram_router(png))

    async def main():
        bot = aiogram_bot(sandbox, token)
        polling = asyncio.create_task(dispatcher.start_polling(
            bot, polling_timeout=1, handle_signals=False, close_bot_session=True))
        try:
            return await asyncio.to_thread(user_journey, sandbox, bot_id)
        finally:
            await dispatcher.stop_polling()
            await polling

    messages = asyncio.run(main())

    assert messages[1]["text"] == "got 10 bytes: ten bytes!"


def ptb_application(sandbox, token, png):
    application = (ApplicationBuilder().token(token).base_url(f"{sandbox.url}/bot")
                   .base_file_url(f"{sandbox.url}/file/bot").build())

    async def start(update, context):
        markup = PtbKeyboard([[PtbButton("Approve", callback_data="approve")]])
        await update.message.reply_photo(png, caption="Offer", reply_markup=markup)

    async def approve(update, context):
        await update.callback_query.answer("Approved")
        await update.callback_query.edit_message_caption("Offer (approved)")

    async def document(update, context):
        file = await update.message.document.get_file()
        data = bytes(await file.download_as_bytearray())
        await update.message.reply_text(f"got {len(data)} bytes: {data.decode()}")

    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(approve, pattern="^approve$"))
    application.add_handler(MessageHandler(filters.Document.ALL, document))
    return application


def test_a_python_telegram_bot_bot(sandbox, png):
    token, bot_id = sandbox.new_bot()
    application = ptb_application(sandbox, token, png)

    async def main():
        async with application:
            await application.start()
            await application.updater.start_polling(poll_interval=0, timeout=1)
            try:
                return await asyncio.to_thread(user_journey, sandbox, bot_id)
            finally:
                await application.updater.stop()
                await application.stop()

    messages = asyncio.run(main())

    assert messages[1]["text"] == "got 10 bytes: ten bytes!"
