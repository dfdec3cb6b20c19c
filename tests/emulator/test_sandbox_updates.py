"""Updates from simulated users reaching real TeleBots, by getUpdates and long-polling."""

import base64
import threading
import time

import pytest
import requests
from telebot import types

from tests.waiting import wait_for, wait_until

pytestmark = pytest.mark.timeout(30)


def drain(bot, offset=None):
    """Fetch pending updates (returns at once when some wait) and run the bot's handlers."""
    updates = bot.get_updates(offset=offset, long_polling_timeout=1)
    bot.process_new_updates(updates)
    return updates


def test_user_text_reaches_a_handler_and_the_reply_is_logged(make_bot, control):
    bot, bot_id = make_bot()

    @bot.message_handler(commands=["start"])
    def greet(message):
        bot.reply_to(message, f"Welcome, {message.from_user.first_name}")

    sent = control.user_says(bot_id, 901, "/start")
    updates = drain(bot)

    assert [u.update_id for u in updates] == [sent["update_id"]]
    log = control.messages(bot_id, 901)
    assert [(m["from_bot"], m["text"]) for m in log] == [(False, "/start"), (True, "Welcome, Sara")]
    assert log[0]["message_id"] == sent["message_id"] < log[1]["message_id"]


def test_polling_thread_answers_users_until_stopped(make_bot, control):
    bot, bot_id = make_bot()
    bot.message_handler(func=lambda m: True)(lambda m: bot.send_message(m.chat.id, m.text.upper()))
    poller = threading.Thread(target=bot.polling, kwargs={"interval": 0, "timeout": 5,
                                                          "long_polling_timeout": 1})
    poller.start()
    try:
        control.user_says(bot_id, 902, "hello")
        wait_for(lambda: len(control.messages(bot_id, 902)) >= 2, timeout=10)
    finally:
        bot.stop_polling()
        poller.join(10)

    assert [m["text"] for m in control.messages(bot_id, 902)] == ["hello", "HELLO"]
    assert not poller.is_alive()


def test_offset_confirms_earlier_updates_and_limit_caps_the_batch(make_bot, control):
    bot, bot_id = make_bot()
    ids = [control.user_says(bot_id, 903, f"m{i}")["update_id"] for i in range(3)]

    first_two = bot.get_updates(limit=2, long_polling_timeout=1)
    after_first = bot.get_updates(offset=ids[1], long_polling_timeout=1)
    again = bot.get_updates(long_polling_timeout=1)

    assert [u.message.text for u in first_two] == ["m0", "m1"]
    assert [u.update_id for u in after_first] == ids[1:]
    assert [u.update_id for u in again] == ids[1:]


def test_long_poll_returns_as_soon_as_an_update_arrives(make_bot, control):
    bot, bot_id = make_bot()
    threading.Timer(0.3, control.user_says, (bot_id, 904, "late")).start()

    started = time.monotonic()
    updates = bot.get_updates(long_polling_timeout=10, timeout=15)

    assert [u.message.text for u in updates] == ["late"]
    assert 0.2 < time.monotonic() - started < 5


def test_long_poll_times_out_empty(make_bot):
    bot, _ = make_bot()

    started = time.monotonic()
    assert bot.get_updates(long_polling_timeout=1, timeout=5) == []
    assert 0.9 < time.monotonic() - started < 3


def test_a_new_get_updates_ends_the_waiting_one_and_is_served(sandbox, new_token):
    """Telegram answers the older, still waiting getUpdates 409 and serves the newer one, so a
    poller restarted after a kill is not locked out by its predecessor's long-poll."""
    token = new_token()
    url = f"{sandbox.url}/bot{token}/getUpdates"
    answers = []
    waiting = threading.Thread(target=lambda: answers.append(
        requests.get(url, params={"timeout": 30}, timeout=40)))
    started = time.monotonic()
    waiting.start()
    wait_until(lambda: any(call["method"] == "getUpdates" for call in
                           requests.get(f"{sandbox.url}/sandbox/calls", timeout=5).json()["calls"]),
               message="the first getUpdates to be waiting")

    newer = requests.get(url, params={"timeout": 0}, timeout=5)
    other_bot = requests.get(f"{sandbox.url}/bot{new_token()}/getUpdates", timeout=5)
    waiting.join()

    assert newer.json() == {"ok": True, "result": []}
    [older] = answers
    assert older.status_code == 409
    assert older.json()["description"] == (
        "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running")
    assert time.monotonic() - started < 10  # ended by the newer request, not by its timeout
    assert other_bot.json() == {"ok": True, "result": []}


def test_user_photo_is_downloadable_with_get_file(make_bot, control, png_bytes):
    bot, bot_id = make_bot()
    response = control.post("/sandbox/updates", {
        "bot_id": bot_id, "from": {"id": 905, "first_name": "Ali"},
        "photo": base64.b64encode(png_bytes).decode(), "caption": "my receipt"})

    [update] = drain(bot)

    message = update.message
    size = message.photo[-1]
    assert (message.content_type, message.caption) == ("photo", "my receipt")
    assert (size.width, size.height, size.file_size) == (2, 3, len(png_bytes))
    assert bot.download_file(bot.get_file(size.file_id).file_path) == png_bytes
    [logged] = control.messages(bot_id, 905)
    assert (logged["photo"], logged["message_id"]) == (size.file_id, response.json()["message_id"])


def test_user_document_keeps_its_name(make_bot, control):
    bot, bot_id = make_bot()
    control.post("/sandbox/updates", {
        "bot_id": bot_id, "from": {"id": 906, "first_name": "Ali"},
        "document": base64.b64encode(b"%PDF-1.4").decode(), "file_name": "receipt.pdf"})

    [update] = drain(bot)

    document = update.message.document
    assert (document.file_name, document.mime_type) == ("receipt.pdf", "application/pdf")
    assert bot.download_file(bot.get_file(document.file_id).file_path) == b"%PDF-1.4"


def test_callback_button_tap_and_its_answer_are_recorded(make_bot, control):
    bot, bot_id = make_bot()
    markup = types.InlineKeyboardMarkup()
    markup.add(types.InlineKeyboardButton("Buy", callback_data="buy:7"))
    offer = bot.send_message(907, "Plan 7", reply_markup=markup)

    @bot.callback_query_handler(func=lambda call: True)
    def on_tap(call):
        bot.answer_callback_query(call.id, f"chose {call.data}", show_alert=True)

    tapped = control.post("/sandbox/updates", {
        "bot_id": bot_id, "from": {"id": 907, "first_name": "Ali"},
        "callback": {"message_id": offer.message_id, "data": "buy:7"}}).json()
    [update] = drain(bot)

    query = update.callback_query
    assert (query.data, query.from_user.id, query.message.message_id) == (
        "buy:7", 907, offer.message_id)
    assert query.message.reply_markup.keyboard[0][0].text == "Buy"
    answers = control.get("/sandbox/callback-answers", bot_id=bot_id).json()["answers"]
    assert [(a["callback_query_id"], a["text"], a["show_alert"]) for a in answers] == [
        (tapped["callback_query_id"], "chose buy:7", True)]


def test_raw_update_is_delivered_as_is(make_bot, control):
    bot, bot_id = make_bot()
    raw = {"my_chat_member": {
        "chat": {"id": 908, "type": "private", "first_name": "Ali"},
        "from": {"id": 908, "is_bot": False, "first_name": "Ali"}, "date": 1700000000,
        "old_chat_member": {"status": "member", "user": {"id": bot_id, "is_bot": True,
                                                         "first_name": "B"}},
        "new_chat_member": {"status": "kicked", "until_date": 0,
                            "user": {"id": bot_id, "is_bot": True, "first_name": "B"}}}}

    answer = control.post("/sandbox/updates", {"bot_id": bot_id, "raw": raw}).json()
    [update] = bot.get_updates(long_polling_timeout=1)

    assert update.update_id == answer["update_id"]
    assert update.my_chat_member.new_chat_member.status == "kicked"
    assert "message_id" not in answer


def test_group_chat_messages_use_the_given_chat(make_bot, control):
    bot, bot_id = make_bot()

    control.user_says(bot_id, 909, "approve 12", chat_id=-1001234)
    [update] = bot.get_updates(long_polling_timeout=1)

    assert (update.message.chat.id, update.message.chat.type) == (-1001234, "supergroup")
    assert update.message.from_user.id == 909
    assert [m["text"] for m in control.messages(bot_id, -1001234)] == ["approve 12"]
