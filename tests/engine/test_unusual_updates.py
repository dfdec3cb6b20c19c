"""200 unusual or malformed updates: nothing escapes, the loop never dies, and /start still works."""
import base64
import itertools
import logging

import pytest

from bots.middleware import error_text
from tests.waiting import wait_until

PNG = base64.b64encode(base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAIAAAA2iEnWAAAAC0lEQVR4nGNgwAIAABUAAapll8QAAAAASUVORK5CYII=")).decode()


def user(uid):
    return {"id": uid, "is_bot": False, "first_name": "Odd", "language_code": "ru"}


def chat(uid, kind="private"):
    return {"id": uid, "type": kind, "first_name": "Odd"} if kind == "private" else \
        {"id": -100_000 - uid, "type": kind, "title": "A channel"}


def message(uid, n, **content):
    return {"message_id": 10_000 + n, "date": 1_700_000_000, "chat": chat(uid), "from": user(uid), **content}


def unusual_bodies(tg_bot_id):
    """Control-API bodies, one per kind of oddity, cycling through users."""
    def raw(payload):
        return {"bot_id": tg_bot_id, "raw": payload}

    def said(uid, **content):
        return {"bot_id": tg_bot_id, "from": {"id": uid, "first_name": "Odd", "language_code": "fa"}, **content}

    kinds = [
        lambda uid, n: raw({"message": message(uid, n, sticker={
            "file_id": "stk", "file_unique_id": "u", "type": "regular", "width": 512, "height": 512,
            "is_animated": False, "is_video": False})}),
        lambda uid, n: said(uid, document=PNG, file_name="receipt.pdf"),
        lambda uid, n: said(uid, photo=PNG),
        lambda uid, n: said(uid, photo=PNG, caption="x" * 1024),
        lambda uid, n: raw({"edited_message": {**message(uid, n, text="edited"), "edit_date": 1_700_000_100}}),
        lambda uid, n: raw({"channel_post": {"message_id": n, "date": 1_700_000_000, "chat": chat(uid, "channel"),
                                             "text": "a channel post"}}),
        lambda uid, n: raw({"my_chat_member": {
            "chat": chat(uid), "from": user(uid), "date": 1_700_000_000,
            "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True, "first_name": "bot"}},
            "new_chat_member": {"status": "kicked", "until_date": 0,
                                "user": {"id": 1, "is_bot": True, "first_name": "bot"}}}}),
        lambda uid, n: raw({"callback_query": {"id": f"cb{n}", "from": user(uid), "chat_instance": "1",
                                               "data": "no-such-button:\u0000\U0001F4A5",
                                               "message": message(uid, n, text="old")}}),
        lambda uid, n: raw({"callback_query": {"id": f"cb{n}", "from": user(uid), "chat_instance": "1"}}),
        lambda uid, n: raw({"message": message(uid, n, text="\U0001F600" * 2500 + "x" * 5000)}),
        lambda uid, n: raw({"message": message(uid, n, text="/start " + "ref_" + "A" * 9000)}),
        lambda uid, n: raw({"message": message(uid, n)}),  # no text at all
        lambda uid, n: raw({"message": {"text": "no chat, no date, no id"}}),  # malformed
        lambda uid, n: raw({"message": "not even an object"}),
        lambda uid, n: raw({"some_future_update": {"x": 1}}),
        lambda uid, n: raw({"message": message(uid, n, location={"latitude": 35.7, "longitude": 51.4})}),
        lambda uid, n: raw({"message": message(uid, n, contact={"phone_number": "+98", "first_name": "C"})}),
        lambda uid, n: raw({"message": message(uid, n, voice={"file_id": "v", "file_unique_id": "v",
                                                              "duration": 1})}),
        lambda uid, n: said(uid, text="/unknown_command with args"),
        lambda uid, n: said(uid, text="\u202e\u0645\u0631\u062d\u0628\u0627 <b>not html</b> & ;DROP TABLE"),
    ]
    uids = itertools.cycle(range(3000, 3010))
    return [kinds[n % len(kinds)](next(uids), n) for n in range(200)]


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
@pytest.mark.parametrize("handlers", ["tests.engine.handlers:register", "bots.handlers:register_all"])
def test_200_unusual_updates_never_break_the_bot(handlers, start_manager, sandbox, make, make_bot, caplog):
    bot = make_bot(make.tenant(default_language="en"))
    manager = start_manager(BOT_ALLOWED_UPDATES=None, BOT_HANDLERS=handlers)
    for body in unusual_bodies(bot.telegram_bot_id):
        sandbox.post("/sandbox/updates", body)
    loop = wait_until(lambda: manager.runner(bot.id) and manager.runner(bot.id).loop, 5)
    sandbox.say(bot.telegram_bot_id, 4242, "/start")
    replies = sandbox.wait_for_reply(bot.telegram_bot_id, 4242, timeout=30)
    assert replies and error_text("en", "error.generic") not in replies
    runner = manager.runner(bot.id)
    assert runner.restarts == 0 and runner.loop is loop and loop.is_alive()
    assert loop.offset > 200
    escaped = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("bots")]
    assert escaped == []
    assert any("skipped unreadable update" in r.getMessage() for r in caplog.records)  # the logs are seen
