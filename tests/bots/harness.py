"""Drives the engine's TeleBots against the sandbox, one update at a time, synchronously.

`Fleet.pump()` does what the engine's polling loop does (getUpdates over HTTP, then
`bots.dispatch.process_update` through the engine's middleware: app context, one transaction),
but in the test's thread, so a test reads the outcome as soon as `pump()` returns. End-to-end
tests of the real polling BotManager are in test_polling_journey.py.
"""
from __future__ import annotations

import base64
import itertools
import json

import telebot

from app.services.bots import bot_token
from bots.dispatch import process_update
from bots.factory import build_telebot
from bots.middleware import UpdateEnvelope
from bots.polling import _parse
from tests.engine.conftest import Sandbox

UPDATE_TYPES = ["message", "edited_message", "channel_post", "edited_channel_post", "callback_query",
                "chat_join_request", "pre_checkout_query",
                "my_chat_member", "chat_member"]
_user_ids = itertools.count(900_000_001)


class Fleet(Sandbox):
    """The TeleBots of some Bot rows, talking to one sandbox (whose control API it also speaks)."""

    def __init__(self, app, sandbox_url):
        super().__init__(sandbox_url)
        self.app = app
        self.telebots, self.offsets, self.errors = {}, {}, []

    def add(self, bot) -> telebot.TeleBot:
        self.post("/sandbox/bots", {"token": bot_token(bot), "username": bot.username})
        tb = build_telebot(self.app, bot)
        self.telebots[bot.telegram_bot_id] = tb
        self.offsets[bot.telegram_bot_id] = 0
        return tb

    def pump(self, rounds: int = 20) -> None:
        """Process every pending update of every bot, then deliver the outbox rows they committed (as the
        worker pool does right after a commit), until nothing is left."""
        for _ in range(rounds):
            updates = any([self._pump_one(tg_id) for tg_id in list(self.telebots)])
            if not (updates or self.deliver_outbox()):
                return
        raise AssertionError("updates kept coming")

    def deliver_outbox(self) -> bool:
        """Deliver the due outbox rows in this thread; True when there were any."""
        from app.worker import delivery, load_handlers

        load_handlers()
        return bool(delivery.drain(self.app))

    def _pump_one(self, tg_id) -> bool:
        tb = self.telebots[tg_id]
        # pyTelegramBotAPI always long-polls; the harness asks getUpdates itself with timeout=0.
        response = self.http.get(f"{self.url}/bot{tb.token}/getUpdates", timeout=10, params={
            "offset": self.offsets[tg_id] + 1, "timeout": 0, "allowed_updates": json.dumps(UPDATE_TYPES)})
        raws = response.json()["result"]
        for raw in raws:
            self.offsets[tg_id] = max(self.offsets[tg_id], raw["update_id"])
            update = _parse(raw, tg_id)  # the polling loop's own reader: an unreadable update is skipped
            if update is None:
                continue
            envelope = process_update(tb, update, UpdateEnvelope(update.update_id))
            if envelope.failed is not None:
                self.errors.append(envelope.failed)
        return bool(raws)

    def user(self, bot, **kw) -> TgUser:
        return TgUser(self, bot.telegram_bot_id, **kw)


class TgUser:
    """A Telegram user chatting with one bot of the fleet."""

    def __init__(self, fleet, tg_bot_id, user_id=None, first_name="Sara", language_code="fa", username=None,
                 chat_id=None):
        self.fleet, self.bot_id = fleet, tg_bot_id
        self.id = user_id or next(_user_ids)
        self.chat_id = chat_id or self.id
        self.profile = {"id": self.id, "first_name": first_name}
        if language_code:
            self.profile["language_code"] = language_code
        if username:
            self.profile["username"] = username

    def _update(self, **content):
        answer = self.fleet.post("/sandbox/updates", {"bot_id": self.bot_id, "from": self.profile,
                                                      "chat_id": self.chat_id, **content})
        self.fleet.pump()
        return answer

    def tops_up_with_photo(self, png, amount=100_000):
        """Start, open a top-up invoice of `amount` and send a receipt photo for it."""
        self.says("/start")
        self.presses("m:topup")
        self.presses(f"tu:{amount}")
        return self.sends_photo(png)

    def says(self, text):
        return self._update(text=text)

    def sends_photo(self, png: bytes, caption=None):
        body = {"photo": base64.b64encode(png).decode()}
        if caption:
            body["caption"] = caption
        return self._update(**body)

    def sends_document(self, data: bytes, file_name: str, mime_type: str, caption=None):
        body = {"document": base64.b64encode(data).decode(), "file_name": file_name, "mime_type": mime_type}
        if caption:
            body["caption"] = caption
        return self._update(**body)

    def sends_raw(self, raw: dict):
        return self._update(raw=raw)

    def presses(self, data: str, message=None):
        """Press the button with callback_data `data` on `message` (default: the last one that has it)."""
        message = message or self.message_with_button(data)
        return self._update(callback={"message_id": message["message_id"], "data": data})

    def message_with_button(self, data):
        for message in reversed(self.messages()):
            if data in buttons(message):
                return message
        raise AssertionError(f"no message with button {data!r}: {[m['text'] for m in self.messages()]}")

    def messages(self):
        return self.fleet.get(f"/sandbox/chats/{self.chat_id}/messages", bot_id=self.bot_id)["messages"]

    def bot_messages(self):
        return [m for m in self.messages() if m["from_bot"]]

    def last(self):
        return self.bot_messages()[-1]

    def last_text(self):
        message = self.last()
        return message["text"] or message["caption"] or ""

    def callback_answers(self):
        return [a["text"] for a in self.fleet.get("/sandbox/callback-answers", bot_id=self.bot_id)["answers"]]


def buttons(message) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b.get("callback_data") for row in markup.get("inline_keyboard", []) for b in row]
