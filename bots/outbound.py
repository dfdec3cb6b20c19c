"""Outbox handlers for Telegram: the worker side of every message Botfleet sends outside a conversation.

Each handler is at-least-once: a send records Telegram's message_id on the row right after Telegram
accepts it (app.worker.delivery.remember), and a re-run of a row that has one does not send again.
The one window left: a worker killed after Telegram accepted the message and before that record
commits; the row is re-delivered after its lease and the member gets the message twice.
"""
from __future__ import annotations

import requests
from flask import current_app
from telebot.apihelper import ApiTelegramException

from app.extensions import db
from app.models import Member, OutboxMessage
from app.services import outbox
from app.services.notify import KIND as NOTICE
from app.worker.delivery import remember
from bots import notify, redaction, telegram_api

log = redaction.get_logger(__name__)

_CONFIGURED = "botfleet_telegram_configured"


@outbox.handler(NOTICE)
def deliver_notice(message: OutboxMessage) -> None:
    """A member's notice: rendered now, in the member's current language, through their bot."""
    if _already_sent(message):
        return
    payload = message.payload
    member = db.session.get(Member, payload["member_id"])
    if member is None:
        raise outbox.Permanent("member deleted")
    outgoing = notify.compose_notice(member, payload["text_key"], **payload.get("params", {}))
    if outgoing is None:
        raise outbox.Permanent("the tenant has no active bot")
    send(message, outgoing)


def send(message: OutboxMessage, outgoing: notify.Outgoing) -> None:
    """Send `outgoing` for the row `message` and remember Telegram's message_id on it."""
    configure()
    try:
        sent = notify.telebot_for(outgoing.bot).send_message(outgoing.chat_id, outgoing.text,
                                                             reply_markup=outgoing.markup)
    except ApiTelegramException as exc:
        raise telegram_failure(exc) from None
    except requests.RequestException as exc:
        raise ConnectionError(f"Telegram unreachable: {type(exc).__name__}") from None
    remember(message, message_id=sent.message_id, chat_id=outgoing.chat_id)


def telegram_failure(exc: ApiTelegramException) -> Exception:
    """What an outbox handler raises for a Telegram error: Retry on 429, Permanent on 400/403, else retry."""
    if exc.error_code == 429:
        retry_after = (exc.result_json or {}).get("parameters", {}).get("retry_after", 1)
        return outbox.Retry(float(retry_after), "Telegram rate limit (429)")
    if exc.error_code in (400, 403):
        return outbox.Permanent(f"{exc.error_code}: {exc.description}"[:500])
    return RuntimeError(f"Telegram error {exc.error_code}: {exc.description}")


def _already_sent(message: OutboxMessage) -> bool:
    return bool(message.result and message.result.get("message_id"))


def configure() -> None:
    """Point pyTelegramBotAPI at this app's TELEGRAM_API_URL (once per URL)."""
    app = current_app._get_current_object()
    if app.extensions.get(_CONFIGURED) != app.config["TELEGRAM_API_URL"]:
        telegram_api.configure(app)
        app.extensions[_CONFIGURED] = app.config["TELEGRAM_API_URL"]
