"""Outbox handler `broadcast.send`: one broadcast message to one member, once.

Under the delivery's row lock: Telegram's limits are counted (over them: the delivery stays queued, nothing
is written, and the outbox row comes back in a send slot of the bot reserved for it, so the hundreds of
held sends of a broadcast line up instead of all retrying every second); then all of the request but its last
byte goes to Telegram, the delivery is marked `sending` and committed, and the last byte follows
(bots/committed_send.py says why that makes `sending` mean "Telegram has it"). Then `sent` / `blocked`
(403) / `failed` is recorded. Telegram's 429, a 5xx answer and a request that never completed prove the
message was not taken: the delivery is queued again and the outbox row retries. A whole request with no
answer (a read timeout, a dropped connection) may have been taken: `failed`, not sent again.
"""
from __future__ import annotations

import sqlalchemy as sa
from telebot.apihelper import ApiTelegramException

from app.extensions import db
from app.models import Bot, Broadcast, BroadcastDelivery, OutboxMessage
from app.services import outbox
from app.services.bots import bot_token
from app.services.broadcasts import sending
from app.services.broadcasts.pump import SEND
from app.worker.delivery import MAX_ATTEMPTS
from app.worker.ratelimit import limits_for
from bots import committed_send, outbound


@outbox.handler(SEND)
def deliver(message: OutboxMessage) -> None:
    taken = sending.begin(message.payload["delivery_id"])
    if taken is None:
        db.session.commit()  # what begin recorded (held, cancelled, unconfirmed), if anything
        return
    delivery, broadcast = taken
    bot = db.session.get(Bot, delivery.bot_id) if delivery.bot_id else None
    if bot is None or not bot.is_active:
        return _record(sending.failed, delivery, "the bot is gone or inactive")
    telebot = outbound.telebot_for(bot)
    try:
        outbound.pace(telebot, delivery.chat_id)
    except outbox.Retry as held:  # still queued: nothing to record; back in a slot of its own
        db.session.rollback()
        raise outbox.Retry(max(held.after_seconds, limits_for().reserve_slot(bot.id)), held.reason) from None
    try:
        answer = _send(telebot, bot, broadcast, delivery)
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


def _send(telebot, bot: Bot, broadcast: Broadcast, delivery: BroadcastDelivery):
    """The call, committed as `sending` just before its last byte; Telegram's errors as outbound.perform raises them."""
    outbound.configure()
    method, params, files = _call(broadcast, delivery, bot)

    def commit_sending() -> None:
        sending.mark(delivery)
        db.session.commit()
    try:
        return committed_send.call(bot_token(bot), method, params, files, before_last_byte=commit_sending)
    except ApiTelegramException as exc:
        outbound.note_blocked(telebot, delivery.chat_id, exc)
        raise outbound.telegram_failure(exc) from None


def _record(change, delivery: BroadcastDelivery, reason: str) -> None:
    db.session.rollback()  # a failure may have left the transaction broken; the row is read again
    delivery = db.session.get(BroadcastDelivery, delivery.id)
    change(delivery, reason)
    db.session.commit()


def _sent(broadcast: Broadcast, delivery: BroadcastDelivery, bot: Bot, answer) -> None:
    sending.sent(delivery, getattr(answer, "message_id", None))
    photos = getattr(answer, "photo", None)
    if photos:
        sending.remember_photo(broadcast, bot.id, photos[-1].file_id)
    db.session.commit()


def _call(broadcast: Broadcast, delivery: BroadcastDelivery, bot: Bot) -> tuple[str, dict, dict | None]:
    """The Bot API call (method, form fields, files): the text in the member's language, the photo (a file_id
    once uploaded, else its bytes), the button."""
    params = {"chat_id": delivery.chat_id}
    if broadcast.button_text and broadcast.button_url:
        params["reply_markup"] = {"inline_keyboard": [[{"text": broadcast.button_text, "url": broadcast.button_url}]]}
    text = broadcast.text_for(delivery.language)
    file_id = (broadcast.photo_file_ids or {}).get(str(bot.id))
    photo = None if file_id else db.session.scalar(sa.select(Broadcast.photo).where(Broadcast.id == broadcast.id))
    if file_id:
        return "sendPhoto", {**params, "photo": file_id, "caption": text}, None
    if photo:
        return "sendPhoto", {**params, "caption": text}, {"photo": ("photo", photo)}
    return "sendMessage", {**params, "text": text}, None


def _not_taken(exc: Exception) -> bool:
    """True when the failure proves Telegram did not accept the message (so sending again is safe)."""
    return isinstance(exc, committed_send.NotSent) or (
        isinstance(exc, RuntimeError) and str(exc).startswith("Telegram error 5"))
