"""Outbox handler `broadcast.send`: one broadcast message to one member, at most once.

The delivery row is marked `sending` and committed before Telegram is called (app.services.broadcasts.
sending explains why that makes it at most once), then `sent` / `blocked` (403) / `failed` is recorded.
Telegram's 429 and errors that prove the message was not taken (a refused connection, a 5xx answer)
put it back to `queued` and the outbox row retries; an error after which Telegram may have accepted it
(a read timeout, a dropped connection) is recorded as failed, not sent again.
"""
from __future__ import annotations

import json

import requests
import sqlalchemy as sa

from app.extensions import db
from app.models import Bot, Broadcast, BroadcastDelivery, OutboxMessage
from app.services import outbox
from app.services.broadcasts import sending
from app.services.broadcasts.pump import SEND
from app.worker.delivery import MAX_ATTEMPTS
from bots import outbound


@outbox.handler(SEND)
def deliver(message: OutboxMessage) -> None:
    taken = sending.begin(message.payload["delivery_id"])
    db.session.commit()
    if taken is None:
        return
    delivery, broadcast = taken
    bot = db.session.get(Bot, delivery.bot_id) if delivery.bot_id else None
    if bot is None or not bot.is_active:
        return _record(sending.failed, delivery, "the bot is gone or inactive")
    try:
        answer = outbound.perform(outbound.telebot_for(bot), _call(broadcast, delivery, bot))
    except outbox.Retry as retry:
        _record(sending.again, delivery, retry.reason)
        raise
    except outbox.Permanent as refused:
        return _record(sending.blocked if refused.reason.startswith("403") else sending.failed, delivery,
                       refused.reason)
    except Exception as exc:  # noqa: BLE001 - decided below: retry only if Telegram surely did not take it
        if _not_taken(exc) and message.attempts < MAX_ATTEMPTS:
            _record(sending.again, delivery, str(exc))
            raise
        return _record(sending.failed, delivery, f"{type(exc).__name__}: {exc}")
    _sent(broadcast, delivery, bot, answer)


def _record(change, delivery: BroadcastDelivery, reason: str) -> None:
    change(delivery, reason)
    db.session.commit()


def _sent(broadcast: Broadcast, delivery: BroadcastDelivery, bot: Bot, answer) -> None:
    sending.sent(delivery, getattr(answer, "message_id", None))
    photos = getattr(answer, "photo", None)
    if photos:
        sending.remember_photo(broadcast, bot.id, photos[-1].file_id)
    db.session.commit()


def _call(broadcast: Broadcast, delivery: BroadcastDelivery, bot: Bot) -> dict:
    """The Bot API call: the text in the member's language, the photo (a file_id once uploaded), the button."""
    params = {"chat_id": delivery.chat_id}
    if broadcast.button_text and broadcast.button_url:
        params["reply_markup"] = json.dumps(
            {"inline_keyboard": [[{"text": broadcast.button_text, "url": broadcast.button_url}]]})
    text = broadcast.text_for(delivery.language)
    photo = (broadcast.photo_file_ids or {}).get(str(bot.id)) or db.session.scalar(
        sa.select(Broadcast.photo).where(Broadcast.id == broadcast.id))
    if photo:
        return {"method": "send_photo", "params": {**params, "photo": photo, "caption": text}}
    return {"method": "send_message", "params": {**params, "text": text}}


def _not_taken(exc: Exception) -> bool:
    """True when the failure proves Telegram did not accept the message (so sending again is safe)."""
    if isinstance(exc, outbound.Unreachable):
        cause = exc.__context__
        return isinstance(cause, requests.ConnectTimeout) or (
            isinstance(cause, requests.ConnectionError) and "NewConnectionError" in repr(cause))
    return isinstance(exc, RuntimeError) and str(exc).startswith("Telegram error 5")
