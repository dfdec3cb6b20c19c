"""Outbox handler `broadcast.send`: one broadcast message to one member, once.

Under the delivery's row lock: Telegram's limits are counted (the bot's window full: the send may wait in the
worker's thread, up to PAUSE_SECONDS a batch, for the slot the window frees next; over them still: the delivery
stays queued, nothing is written, and the outbox row comes back in a send slot of the bot reserved for it, so the
hundreds of held sends of a broadcast line up instead of all retrying every second); then all of the request but its last
byte goes to Telegram, the delivery is marked `sending` and committed, and the last byte follows
(bots/committed_send.py says why that makes `sending` mean "Telegram has it"). Then `sent` / `blocked`
(403) / `failed` is recorded. Telegram's 429, a 5xx answer and a request that never completed prove the
message was not taken: the delivery is queued again and the outbox row retries. A whole request with no
answer (a read timeout, a dropped connection) may have been taken: `failed`, not sent again.
"""
from __future__ import annotations

import math
import time
from types import SimpleNamespace

import sqlalchemy as sa
from flask import current_app
from telebot.apihelper import ApiTelegramException

from app.extensions import db
from app.models import Bot, Broadcast, DeliveryStatus, OutboxMessage
from app.services import crypto, outbox
from app.services.broadcasts import sending
from app.services.broadcasts.pump import SEND
from app.worker.delivery import MAX_ATTEMPTS
from app.worker.ratelimit import limits_for
from bots import committed_send, outbound

#: Held-back sends come back on this grid (seconds), so the sends of a bot whose slots fall close together are
#: claimed, limited and recorded as one batch instead of one wake-up each.
TICK_SECONDS = 0.1
#: Sends of one bot counted against its limit in one hit (TELEGRAM_TOKENS_AT_ONCE overrides). Few: Telegram (and
#: the sandbox) count a send when it arrives, and the tokens of one hit all free at the same instant a second
#: later, while the hit's later sends arrived later: a send taken then can meet them in Telegram's window (a 429).
TOKENS_AT_ONCE = 1
#: A batch of one bot's sends may wait this long in all, in the worker's thread, for the bot's next free slot (when
#: its window frees one within that time) rather than being held back (BROADCAST_SEND_PAUSE_SECONDS overrides): a
#: held send comes back a claim round, or a broker sweep, after its slot freed, and each slot reused late lowers
#: the bot's rate for good (app/worker/ratelimit.py, `take`). A window's length: a full window frees a slot within
#: it. A batch with several bots' sends does not wait: it would keep the other bots' sends from their slots.
PAUSE_SECONDS = 1.0


@outbox.handler(SEND)
def deliver(message: OutboxMessage) -> None:
    """One row: the batch path with a batch of one (the outcome raised as the single handler would)."""
    message_id = message.id
    outcome = deliver_batch([message])[message_id]
    if outcome is not None:
        raise outcome


@outbox.batch_handler(SEND)
def deliver_batch(messages: list) -> dict[int, Exception | None]:
    """Several `broadcast.send` rows: per row None (done) or what its single handler would raise.

    One connection, one statement per step: read the batch's deliveries (skipping any another worker holds) and
    record the ones with nothing to send; per bot, the bot's row and Telegram's limits for the whole group; per
    send, the `sending` commit just before the last byte (as for one); then one statement per outcome status.
    """
    outcomes: dict[int, Exception | None] = {}
    rows: dict[int, SimpleNamespace] = {}
    for message in [SimpleNamespace(id=m.id, payload=m.payload, attempts=m.attempts) for m in messages]:
        delivery_id = message.payload["delivery_id"]
        if delivery_id in rows:  # two rows of one delivery (a retry and a resume): the other goes later
            outcomes[message.id] = outbox.Retry(1, "another row of this delivery is in the batch")
        else:
            rows[delivery_id] = message
    db.session.rollback()
    with db.engine.connect() as conn:
        try:
            to_send, nothing, locked = sending.take(conn, list(rows))
            for delivery_id in nothing:
                outcomes[rows[delivery_id].id] = None
            for delivery_id in locked:
                outcomes[rows[delivery_id].id] = outbox.Retry(1, "the delivery is held by another worker")
            by_bot: dict[int | None, list] = {}
            for delivery in to_send:
                by_bot.setdefault(delivery.bot_id, []).append(delivery)
            broadcasts = _broadcasts({d.broadcast_id for d in to_send})
            pause = float(current_app.config.get("BROADCAST_SEND_PAUSE_SECONDS", PAUSE_SECONDS))
            pause_until = time.monotonic() + (pause if len(by_bot) == 1 else 0.0)
            for bot_id, deliveries in by_bot.items():
                _send_group(conn, bot_id, deliveries, broadcasts, {d.id: rows[d.id] for d in deliveries}, outcomes,
                            pause_until)
        finally:
            sending.release(conn)  # the sender locks (Postgres), once the outcomes are recorded or the batch failed
    return outcomes


def _broadcasts(ids: set[int]) -> dict[int, Broadcast]:
    """The batch's broadcasts, detached (read once; their texts do not change once confirmed)."""
    found = {}
    for broadcast_id in ids:
        broadcast = db.session.get(Broadcast, broadcast_id)
        broadcast.botfleet_has_photo = bool(db.session.scalar(
            sa.select(Broadcast.photo.is_not(None)).where(Broadcast.id == broadcast_id)))
        db.session.expunge(broadcast)
        found[broadcast_id] = broadcast
    db.session.rollback()
    return found


def _send_group(conn, bot_id: int | None, deliveries: list, broadcasts: dict[int, Broadcast], messages: dict,
                outcomes: dict[int, Exception | None], pause_until: float) -> None:
    """Send one bot's part of a batch, in delivery order, then record the outcomes in one statement per status;
    until `pause_until` (the clock of time.monotonic) a send may wait in this thread for the bot's next slot."""
    bot = conn.execute(sa.select(Bot.__table__.c.token_encrypted, Bot.__table__.c.is_active)
                       .where(Bot.__table__.c.id == bot_id)).first() if bot_id else None
    conn.commit()
    ended: dict[int, tuple[DeliveryStatus, str]] = {}
    sent: dict[int, int | None] = {}
    if bot is None or not bot.is_active:
        for delivery in deliveries:
            ended[delivery.id] = (DeliveryStatus.FAILED, "the bot is gone or inactive")
            outcomes[messages[delivery.id].id] = None
        sending.record(conn, sent, ended)
        return
    token = crypto.decrypt(bot.token_encrypted)
    outbound.configure()
    limits = limits_for()
    at_once = max(1, int(current_app.config.get("TELEGRAM_TOKENS_AT_ONCE", TOKENS_AT_ONCE)))
    photos: dict[str, str] = {}
    held: list = []
    for start in range(0, len(deliveries), at_once):
        group = deliveries[start:start + at_once]
        if held:  # the bot's budget ran out: the rest of the batch waits for slots too
            held += [(delivery, 0.0) for delivery in group]
            continue
        waits = limits.take(bot_id, [d.chat_id for d in group], pause=max(pause_until - time.monotonic(), 0.0))
        for delivery, wait in zip(group, waits):
            if wait:
                held.append((delivery, wait))
                continue
            message = messages[delivery.id]
            outcome, change = _send_one(conn, token, bot_id, broadcasts[delivery.broadcast_id], delivery, message,
                                        photos)
            outcomes[message.id] = outcome
            if isinstance(change, tuple):
                ended[delivery.id] = change
            elif change is not _UNCHANGED:
                sent[delivery.id] = change
    for (delivery, wait), slot in zip(held, limits.reserve_slots(bot_id, len(held))):
        # still queued: nothing to record; back in a slot of its own
        outcomes[messages[delivery.id].id] = outbox.Retry(_on_tick(max(wait, slot)),
                                                          "Telegram send limits (held back before sending)")
    sending.record(conn, sent, ended)
    if photos:
        for broadcast_id in {d.broadcast_id for d in deliveries}:
            sending.remember_photos(conn, broadcast_id, photos)
            broadcasts[broadcast_id].photo_file_ids = {**(broadcasts[broadcast_id].photo_file_ids or {}), **photos}


_UNCHANGED = object()


def _send_one(conn, token: str, bot_id: int, broadcast: Broadcast, delivery, message, photos: dict[str, str]):
    """Send one delivery; (the outbox outcome, the delivery's change: a message id when sent, a (status, reason)
    when it ended or goes back to queued, or _UNCHANGED)."""
    method, params, files = _call(broadcast, delivery, bot_id, photos)
    try:
        answer = committed_send.call(token, method, params, files,
                                     before_last_byte=lambda: sending.mark_sending(conn, delivery.id))
    except ApiTelegramException as exc:
        outbound.note_blocked(SimpleNamespace(botfleet_bot_id=bot_id), delivery.chat_id, exc)
        failure = outbound.telegram_failure(exc)
        if isinstance(failure, outbox.Retry):
            return failure, (DeliveryStatus.QUEUED, failure.reason)
        if isinstance(failure, outbox.Permanent):
            status = DeliveryStatus.BLOCKED if failure.reason.startswith("403") else DeliveryStatus.FAILED
            return None, (status, failure.reason)
        return _unknown(failure, message)
    except committed_send.NotSent as exc:
        if isinstance(exc.__cause__, sending.Changed):  # another send has it, or it is no longer to be sent
            return None, _UNCHANGED
        conn.rollback()
        return _unknown(exc, message)
    except Exception as exc:  # noqa: BLE001 - decided below: retry only if Telegram surely did not take it
        conn.rollback()
        return _unknown(exc, message)
    file_photos = getattr(answer, "photo", None)
    if file_photos and method == "sendPhoto":
        photos[str(bot_id)] = file_photos[-1].file_id
    return None, getattr(answer, "message_id", None)


def _unknown(exc: Exception, message) -> tuple[Exception | None, tuple[DeliveryStatus, str]]:
    """A failure that is not Telegram's 4xx: queued again (the row retries with backoff) if it proves Telegram did
    not take the message, else `failed` (never sent twice)."""
    if _not_taken(exc) and message.attempts < MAX_ATTEMPTS:
        return exc, (DeliveryStatus.QUEUED, str(exc))
    return None, (DeliveryStatus.FAILED, f"{type(exc).__name__}: {exc}")


def _on_tick(seconds: float) -> float:
    """`seconds` from now, moved up to the next TICK_SECONDS boundary of the clock."""
    now = time.time()
    return math.ceil((now + seconds) / TICK_SECONDS) * TICK_SECONDS - now


def _call(broadcast: Broadcast, delivery, bot_id: int, photos: dict[str, str]) -> tuple[str, dict, dict | None]:
    """The Bot API call (method, form fields, files): the text in the member's language, the photo (a file_id
    once uploaded, else its bytes), the button."""
    params = {"chat_id": delivery.chat_id}
    if broadcast.button_text and broadcast.button_url:
        params["reply_markup"] = {"inline_keyboard": [[{"text": broadcast.button_text, "url": broadcast.button_url}]]}
    text = broadcast.text_for(delivery.language)
    file_id = photos.get(str(bot_id)) or (broadcast.photo_file_ids or {}).get(str(bot_id))
    photo = None
    if not file_id and getattr(broadcast, "botfleet_has_photo", True):
        photo = db.session.scalar(sa.select(Broadcast.photo).where(Broadcast.id == broadcast.id))
        db.session.rollback()
    if file_id:
        return "sendPhoto", {**params, "photo": file_id, "caption": text}, None
    if photo:
        return "sendPhoto", {**params, "caption": text}, {"photo": ("photo", photo)}
    return "sendMessage", {**params, "text": text}, None


def _not_taken(exc: Exception) -> bool:
    """True when the failure proves Telegram did not accept the message (so sending again is safe)."""
    return isinstance(exc, committed_send.NotSent) or (
        isinstance(exc, RuntimeError) and str(exc).startswith("Telegram error 5"))
