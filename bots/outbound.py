"""Outbox handlers for Telegram: the worker side of every message Botfleet sends outside a conversation.

`telegram.calls`: Bot API calls of one bot, made in order (the notice kind is in bots/notify.py, the
receipt kinds in bots/receipt_outbound.py). Each is at-least-once with its effect once:
a send records Telegram's message_id (and a sequence its progress) on the row right after Telegram
accepts it (app.worker.delivery.remember), and a re-run does not repeat what is recorded. The one
window left: a worker killed after Telegram accepted a message and before that record commits; the row
runs again after its lease and that one message goes twice. Edits are idempotent by nature.
"""
from __future__ import annotations

import base64
from datetime import timedelta

import requests
from flask import current_app
from telebot import TeleBot, apihelper
from telebot.apihelper import ApiTelegramException

from app import redaction, telegram_api
from app.extensions import db
from app.models import Bot, OutboxMessage
from app.models.types import utcnow
from app.services import members, outbox
from app.services.bots import bot_token
from app.worker.delivery import remember
from app.worker.ratelimit import limits_for

log = redaction.get_logger(__name__)

CALLS = "telegram.calls"
#: TeleBot methods a queued call may name.
METHODS = frozenset({"send_message", "send_photo", "edit_message_text", "edit_message_caption",
                     "edit_message_reply_markup", "answer_callback_query", "delete_message", "copy_message",
                     "answer_pre_checkout_query"})
#: The key under which bytes (an uploaded photo) are stored in a queued call, base64-encoded.
BYTES = "__bytes_base64__"
#: The methods that send a message, so count against Telegram's limits (edits and answers do not).
SENDS = frozenset({"send_message", "send_photo", "copy_message"})
#: The calls that may go as the bare Bot API method (`as_method`): TeleBot's name → (the Bot API method, the
#: parameters it may carry).
AS_METHODS = {
    "send_message": ("sendMessage", frozenset({"chat_id", "text", "reply_markup", "parse_mode", "message_thread_id"})),
    "edit_message_text": ("editMessageText", frozenset({"chat_id", "message_id", "text", "reply_markup", "parse_mode"})),
    "edit_message_caption": ("editMessageCaption", frozenset({"chat_id", "message_id", "caption", "reply_markup",
                                                              "parse_mode"})),
    "edit_message_reply_markup": ("editMessageReplyMarkup", frozenset({"chat_id", "message_id", "reply_markup"})),
    "answer_callback_query": ("answerCallbackQuery", frozenset({"callback_query_id", "text", "show_alert", "url",
                                                                "cache_time"})),
}


class Unreachable(ConnectionError):
    """Telegram did not answer (a network error); retried with backoff."""


def bot_call(method: str, **params) -> dict:
    """A Bot API call as JSON-storable data (a keyboard becomes its JSON)."""
    if method not in METHODS:
        raise ValueError(f"not a queueable Bot API method: {method}")
    markup = params.get("reply_markup")
    if markup is not None and hasattr(markup, "to_json"):
        params["reply_markup"] = markup.to_json()
    for name, value in params.items():  # an uploaded photo's bytes, kept as base64 (JSON holds no bytes)
        if isinstance(value, bytes):
            params[name] = {BYTES: base64.b64encode(value).decode()}
    return {"method": method, "params": params}


def as_method(call: dict) -> dict | None:
    """A queued call as the Bot API method with its parameters as JSON ({"method": "sendMessage", "chat_id": ...};
    a keyboard stays the JSON text `bot_call` made of it, which the Bot API reads too), or None when it is not
    one of AS_METHODS or carries something JSON does not (an upload)."""
    known = AS_METHODS.get(call["method"])
    if known is None or not call["params"].keys() <= known[1]:
        return None
    body = {"method": known[0]}
    for name, value in call["params"].items():
        if value is None:
            continue
        if not isinstance(value, str | int | bool):
            return None
        body[name] = value
    return body


def _arguments(params: dict) -> dict:
    """A queued call's parameters as TeleBot takes them (base64 back to bytes)."""
    return {name: base64.b64decode(value[BYTES]) if isinstance(value, dict) and BYTES in value else value
            for name, value in params.items()}


def enqueue_calls(bot_id: int, tenant_id: int | None, calls: list[dict], *, key: str,
                  after_seconds: float = 0, reply: bool = False) -> OutboxMessage:
    """Queue Bot API calls (from `bot_call`) of one bot, made in order after the commit.

    :param reply: the replies to the user's own update: only the bot's limit applies, not the chat's
        (as for a reply made inline, see `perform`).
    """
    not_before = utcnow() + timedelta(seconds=after_seconds) if after_seconds else None
    payload = {"bot_id": bot_id, "calls": calls, **({"reply": True} if reply else {})}
    return outbox.enqueue(CALLS, payload, tenant_id=tenant_id, key=key, not_before=not_before)


def send_later(bot: Bot, chat_id: int, text: str, markup=None, *, key: str) -> OutboxMessage:
    """Queue one text message through `bot` (flush only)."""
    call = bot_call("send_message", chat_id=chat_id, text=text, reply_markup=markup)
    return enqueue_calls(bot.id, bot.tenant_id, [call], key=key)


@outbox.handler(CALLS)
def deliver_calls(message: OutboxMessage) -> None:
    """Make the row's calls in order, resuming after the last one recorded as made."""
    bot = db.session.get(Bot, message.payload["bot_id"])
    if bot is None or not bot.is_active:
        raise outbox.Permanent("the bot is gone or inactive")
    telebot = telebot_for(bot)
    calls, per_chat = message.payload["calls"], not message.payload.get("reply")
    first = (message.result or {}).get("done", 0)
    db.session.commit()  # ends the read: no database connection is held while Telegram answers
    for index in range(first, len(calls)):
        try:
            sent = perform(telebot, calls[index], per_chat=per_chat)
        except outbox.Permanent as refused:
            if refused.reason.startswith("403"):
                raise
            log.info("outbox %s: call %s refused: %s", message.id, calls[index]["method"], refused.reason)
            sent = None
        remember(message, done=index + 1, **sent_id(sent))


def telebot_for(bot: Bot) -> TeleBot:
    """A sending-only TeleBot for `bot` (pyTelegramBotAPI's API_URL is set process-wide)."""
    tb = TeleBot(bot_token(bot), threaded=False)
    tb.botfleet_bot_id = bot.id
    tb.botfleet_tenant_id = bot.tenant_id
    return tb


def perform(telebot, call: dict, *, per_chat: bool = True, answer_read: bool = True):
    """Make one queued call; Telegram's answer, or outbox.Retry / outbox.Permanent / an error to retry.

    A send over Telegram's limits is not made: outbox.Retry says when it may go (see `pace`).

    :param answer_read: False when the caller does not read the answer: a call that can (`as_method`) goes as
        the bare Bot API method and None is returned, the answer checked but not made into telebot's objects.
    """
    configure()
    if call["method"] in SENDS:
        pace(telebot, call["params"].get("chat_id"), per_chat=per_chat)
    body = None if answer_read else as_method(call)
    try:
        if body is None:
            return getattr(telebot, call["method"])(**_arguments(call["params"]))
        telegram_api.call(telebot.token, body.pop("method"), body, result=False)
        return None
    except ApiTelegramException as exc:
        if exc.error_code == 400 and "message is not modified" in exc.description:
            return None  # the edit is already there
        note_blocked(telebot, call["params"].get("chat_id"), exc)
        raise telegram_failure(exc) from None
    except requests.RequestException as exc:
        raise Unreachable(f"Telegram unreachable: {type(exc).__name__}") from None


def pace(telebot, chat_id, *, per_chat: bool = True) -> None:
    """Count a send of `telebot`'s bot to `chat_id` against Telegram's limits, or raise outbox.Retry (never sleeps).

    :param per_chat: False for the reply to the user's own update: only the bot's limit applies.
    """
    wait = limits_for().wait_before_send(telebot.botfleet_bot_id, chat_id, per_chat=per_chat)
    if wait:
        raise outbox.Retry(wait, "Telegram send limits (held back before sending)")


def note_blocked(telebot, chat_id, exc: ApiTelegramException) -> None:
    """On 403 "bot was blocked by the user": flag the member's session with this bot, committed at once."""
    if exc.error_code != 403 or "blocked by the user" not in (exc.description or "") or not isinstance(chat_id, int):
        return
    bot = db.session.get(Bot, telebot.botfleet_bot_id)
    if bot is not None and members.mark_blocked(bot, chat_id):
        db.session.commit()
        log.info("bot %s: chat %s blocked the bot", bot.id, chat_id)


def telegram_failure(exc: ApiTelegramException) -> Exception:
    """What an outbox handler raises for a Telegram error: Retry on 429, Permanent on 400/403, else retry."""
    if exc.error_code == 429:
        retry_after = ((exc.result_json or {}).get("parameters") or {}).get("retry_after", 1)
        return outbox.Retry(float(retry_after), "Telegram rate limit (429)")
    if exc.error_code in (400, 403):
        return outbox.Permanent(f"{exc.error_code}: {exc.description}"[:500])
    return RuntimeError(f"Telegram error {exc.error_code}: {exc.description}")


def sent_id(sent) -> dict:
    message_id = getattr(sent, "message_id", None)
    return {"message_id": message_id} if message_id else {}


def configure() -> None:
    """Point pyTelegramBotAPI at this app's TELEGRAM_API_URL unless it already is."""
    app = current_app._get_current_object()
    if apihelper.API_URL != telegram_api.api_url(app):
        telegram_api.configure(app)
