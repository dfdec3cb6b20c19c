"""Outbox handler `broadcast.send`: one broadcast message to one member, once.

Under the delivery's row lock: Telegram's limits are counted (the bot's window full: the send may wait in the
worker's thread, up to PAUSE_SECONDS a batch, for the slot the window frees next; over them still: the delivery
stays queued, nothing is written, and the outbox row comes back in a send slot of the bot reserved for it, so the
hundreds of held sends of a broadcast line up instead of all retrying every second); then all of the request but its last
byte goes to Telegram, the delivery is marked `sending` and committed, and the last byte follows
(bots/committed_send.py says why that makes `sending` mean "Telegram has it"); a bot's sends of a batch go
side by side, TOKENS_AT_ONCE at a time, each on its own connection, all their `sending` in one commit. The limiter
counts their tokens in flight from the take and stamps them once their last bytes are written (as Telegram counts a
send when it arrives: the commit and a descheduled thread in between no longer make a burst; app/worker/ratelimit.py).
Then `sent` / `blocked` (403) / `failed` is recorded. Telegram's 429, a 5xx answer and a request that never completed
prove the message was not taken: the delivery is queued again and the outbox row retries. A whole request with no
answer (a read timeout, a dropped connection) may have been taken: `failed`, not sent again.
"""
from __future__ import annotations

import functools
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
#: Sends of one bot counted against its limit in one hit and made side by side, their `sending` in one commit
#: (TELEGRAM_TOKENS_AT_ONCE overrides). Telegram (and the sandbox) count a send when it arrives, and the tokens of
#: one hit are stamped together, after the hit's last bytes: the hit's sends must arrive together too, or a send
#: of the hit can meet later ones in Telegram's window (a 429). Made one after another (each its own commit), they
#: did not (5 a hit: 72 429s); side by side they arrive a few ms apart, which a few ms of the window's guard
#: (TELEGRAM_LIMIT_GUARD_SECONDS) cover (docs/performance.md, "a bot's sends side by side").
TOKENS_AT_ONCE = 10
#: A batch of one bot's sends may wait this long in all, in the worker's thread, for the bot's next free slot (when
#: its window frees one within that time) rather than being held back (BROADCAST_SEND_PAUSE_SECONDS overrides): a
#: held send comes back a claim round, or a broker sweep, after its slot freed, and each slot reused late lowers
#: the bot's rate for good (app/worker/ratelimit.py, `take`). A window's length: a full window frees a slot within
#: it. In a batch with several bots' sends, those that found their bot's window full wait after every bot's sends
#: went (`_send_bots`), so no bot's sends wait behind another's slot.
#: Sends made at the window's edge keep no room for the spread between a token and the request's arrival: while a
#: token was stamped when taken, the 'sending' commit and a descheduled thread under CI's load made the two-host
#: test's sandbox count 33 and 34 sends of one bot in 0.8 and 0.7 s (1 Dec 2026), and this was off; the limiter now
#: stamps a send when its last byte is written (`limits.sent`).
PAUSE_SECONDS = 1.0


@outbox.handler(SEND)
def deliver(message: OutboxMessage) -> None:
    """One row: the batch path with a batch of one (the outcome raised as the single handler would)."""
    message_id = message.id
    outcome = deliver_batch([message])[message_id]
    if outcome is not None:
        raise outcome


def _bot_ready(bot_id: int, count: int) -> float:
    """The lane of a bot's sends (the in-process pool, app/worker/lanes.py): seconds until `count` fit its window."""
    return limits_for().free_in(bot_id, count)


@outbox.batch_handler(SEND, lane=outbox.Lane("bot_id", _bot_ready))
def deliver_batch(messages: list) -> dict[int, Exception | None]:
    """Several `broadcast.send` rows: per row None (done) or what its single handler would raise.

    One connection, one statement per step: read the batch's deliveries (skipping any another worker holds) and
    record the ones with nothing to send; read their broadcasts and bots; per bot, Telegram's limits, then its sends
    side by side with one `sending` commit just before their last bytes; then one statement per outcome status.
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
            broadcasts = _broadcasts(conn, {d.broadcast_id for d in to_send})
            bots = _bots(conn, [bot_id for bot_id in by_bot if bot_id])
            sent: dict[int, int | None] = {}
            ended: dict[int, tuple[DeliveryStatus, str]] = {}
            _send_bots(conn, bots, by_bot, broadcasts, rows, outcomes, sent, ended)
            sending.record(conn, sent, ended)
        finally:
            sending.release(conn)  # the sender locks (Postgres), once the outcomes are recorded or the batch failed
    return outcomes


_B = Broadcast.__table__
#: What a send needs of its broadcast: its texts do not change once confirmed; the photo's bytes are read only
#: for an upload.
_CONTENT = (_B.c.id, _B.c.text, _B.c.texts, _B.c.button_text, _B.c.button_url, _B.c.photo_file_ids,
            _B.c.photo.is_not(None).label("has_photo"))


def _broadcasts(conn, ids: set[int]) -> dict[int, Broadcast]:
    """The batch's broadcasts (transient objects of the columns a send needs), in one statement."""
    if not ids:
        return {}
    found = {}
    for row in conn.execute(sa.select(*_CONTENT).where(_B.c.id.in_(ids))):
        values = row._asdict()
        has_photo = values.pop("has_photo")
        found[row.id] = Broadcast(**values)
        found[row.id].botfleet_has_photo = bool(has_photo)
    return found


def _bots(conn, ids: list[int]) -> dict[int, tuple[str, bool]]:
    """bot id → (encrypted token, active) of the batch's bots, in one statement."""
    bot = Bot.__table__
    return {row.id: (row.token_encrypted, row.is_active) for row in
            conn.execute(sa.select(bot.c.id, bot.c.token_encrypted, bot.c.is_active).where(bot.c.id.in_(ids)))} \
        if ids else {}


def _send_bots(conn, bots: dict[int, tuple[str, bool]], by_bot: dict[int | None, list], broadcasts: dict[int, Broadcast],
               messages: dict, outcomes: dict[int, Exception | None], sent: dict[int, int | None],
               ended: dict[int, tuple[DeliveryStatus, str]]) -> None:
    """Send each bot's part of a batch (`_send_group`). One bot's sends may wait for its slots up to PAUSE_SECONDS;
    with several bots, every bot's sends go first without waiting, then those that found their bot's window full
    wait for its slots, up to PAUSE_SECONDS in all (a paced step falls due as, or before, the window frees the
    previous second's sends: about half of them found it full a few ms early and were held back a claim round).
    Those left are held back, each in a slot of its own."""
    pause = float(current_app.config.get("BROADCAST_SEND_PAUSE_SECONDS", PAUSE_SECONDS))
    several = len(by_bot) > 1
    until = time.monotonic() + (0.0 if several else pause)
    waiting = {bot_id: _send_group(conn, bots.get(bot_id), deliveries, broadcasts, messages, outcomes, sent, ended,
                                   until) for bot_id, deliveries in by_bot.items()}
    if several:
        until = time.monotonic() + pause
        for bot_id, held in waiting.items():
            if held:
                waiting[bot_id] = _send_group(conn, bots.get(bot_id), [d for d, _ in held], broadcasts, messages,
                                              outcomes, sent, ended, until)
    for bot_id, held in waiting.items():
        _hold(bot_id, held, messages, outcomes)


def _hold(bot_id: int, held: list, messages: dict, outcomes: dict[int, Exception | None]) -> None:
    """Held back (still queued: nothing to record): each (delivery, wait) back in a send slot of the bot's own."""
    for (delivery, wait), slot in zip(held, limits_for().reserve_slots(bot_id, len(held))):
        outcomes[messages[delivery.id].id] = outbox.Retry(_on_tick(max(wait, slot)),
                                                          "Telegram send limits (held back before sending)")


def _send_group(conn, bot: tuple[str, bool] | None, deliveries: list, broadcasts: dict[int, Broadcast],
                messages: dict, outcomes: dict[int, Exception | None], sent: dict[int, int | None],
                ended: dict[int, tuple[DeliveryStatus, str]], pause_until: float) -> list:
    """Send one bot's part of a batch (`bot`: its encrypted token and whether it is active), in delivery order; its
    outcomes go into `outcomes` (per outbox row), `sent` and `ended` (per delivery, recorded once for the batch).
    Until `pause_until` (time.monotonic's clock) a send may wait in this thread for the bot's next slot. Answers
    the (delivery, seconds to wait) that found no slot, in order."""
    bot_id = deliveries[0].bot_id
    if bot is None or not bot[1]:
        for delivery in deliveries:
            ended[delivery.id] = (DeliveryStatus.FAILED, "the bot is gone or inactive")
            outcomes[messages[delivery.id].id] = None
        return []
    token = crypto.decrypt(bot[0])
    outbound.configure()
    limits = limits_for()
    at_once = max(1, int(current_app.config.get("TELEGRAM_TOKENS_AT_ONCE", TOKENS_AT_ONCE)))
    photos: dict[str, str] = {}
    held: list = []
    pending = list(deliveries)
    while pending:
        size = 1 if _uploads_photo(broadcasts, pending[0], bot_id, photos) else at_once
        group, pending = pending[:size], pending[size:]
        if held:  # the bot's budget ran out: the rest of the batch waits for slots too
            held += [(delivery, 0.0) for delivery in group]
            continue
        waits = limits.take(bot_id, [d.chat_id for d in group], pause=max(pause_until - time.monotonic(), 0.0))
        now = [delivery for delivery, wait in zip(group, waits) if not wait]
        waiting = [(delivery, wait) for delivery, wait in zip(group, waits) if wait]
        if now and waiting and time.monotonic() < pause_until:  # a hit the window had room for in part: the
            pending = [delivery for delivery, _ in waiting] + pending  # rest take again (with the pause) next
        else:
            held += waiting
        answered: dict[int, float] = {}
        try:
            results = _send_together(conn, token, bot_id, broadcasts, now, messages, photos,
                                     functools.partial(limits.sent, waits), answered)
        finally:
            limits.sent(waits)  # (once) the bot's tokens of this hit, stamped when their last bytes were written
        sends = [i for i, wait in enumerate(waits) if not wait]  # `now`'s places in the hit
        limits.answered(waits, {sends[i]: at for i, at in answered.items()})  # late answers: counted late
        _note(now, results, messages, outcomes, sent, ended)
    if photos:
        for broadcast_id in {d.broadcast_id for d in deliveries}:
            sending.remember_photos(conn, broadcast_id, photos)
            broadcasts[broadcast_id].photo_file_ids = {**(broadcasts[broadcast_id].photo_file_ids or {}), **photos}
    return held


_UNCHANGED = object()


def _note(deliveries: list, results: list[tuple], messages: dict, outcomes: dict[int, Exception | None],
          sent: dict[int, int | None], ended: dict[int, tuple[DeliveryStatus, str]]) -> None:
    """Put `_send_together`'s results into the batch's outcomes (per outbox row), `sent` and `ended` (per delivery)."""
    for delivery, (outcome, change) in zip(deliveries, results):
        outcomes[messages[delivery.id].id] = outcome
        if isinstance(change, tuple):
            ended[delivery.id] = change
        elif change is not _UNCHANGED:
            sent[delivery.id] = change


def _uploads_photo(broadcasts: dict[int, Broadcast], delivery, bot_id: int, photos: dict[str, str]) -> bool:
    """Whether this send would upload the broadcast's photo (no file_id of the bot's yet): it goes alone, so the
    sends after it reuse the file_id instead of each uploading."""
    broadcast = broadcasts[delivery.broadcast_id]
    return bool(getattr(broadcast, "botfleet_has_photo", True) and not photos.get(str(bot_id))
                and not (broadcast.photo_file_ids or {}).get(str(bot_id)))


def _send_together(conn, token: str, bot_id: int, broadcasts: dict[int, Broadcast], deliveries: list, messages: dict,
                   photos: dict[str, str], after_last_bytes, answered_at: dict[int, float] | None = None) -> list[tuple]:
    """Send deliveries of one bot side by side, their `sending` committed together just before their last bytes,
    `after_last_bytes()` (the limiter stamps their tokens) right after those, the time each answer was read into
    `answered_at` (`committed_send.call_many`); per delivery (the outbox outcome, the
    delivery's change: a message id when sent, a (status, reason) when it ended or goes back to queued, or
    _UNCHANGED)."""
    if not deliveries:
        return []
    calls = [_call(broadcasts[d.broadcast_id], d, bot_id, photos) for d in deliveries]
    asked: set[int] = set()
    marked: set[int] = set()

    def mark(indices: list[int]) -> set[int]:
        try:
            moved = sending.mark_sending_many(conn, [deliveries[i].id for i in indices])
        except Exception:
            conn.rollback()
            raise
        asked.update(indices)
        marked.update(i for i in indices if deliveries[i].id in moved)
        return marked
    answers = committed_send.call_many(token, calls, before_last_bytes=mark, after_last_bytes=after_last_bytes,
                                       answered_at=answered_at)
    return [(None, _UNCHANGED) if i in asked and i not in marked  # no longer queued: another send has it, or none
            else _outcome(bot_id, delivery, messages[delivery.id], calls[i][0], answers[i], photos)
            for i, delivery in enumerate(deliveries)]


def _outcome(bot_id: int, delivery, message, method: str, answer, photos: dict[str, str]) -> tuple:
    """What a send's answer (the Message, or the exception the call raised) means for its outbox row and delivery."""
    if isinstance(answer, ApiTelegramException):
        outbound.note_blocked(SimpleNamespace(botfleet_bot_id=bot_id), delivery.chat_id, answer)
        failure = outbound.telegram_failure(answer)
        if isinstance(failure, outbox.Retry):
            return failure, (DeliveryStatus.QUEUED, failure.reason)
        if isinstance(failure, outbox.Permanent):
            status = DeliveryStatus.BLOCKED if failure.reason.startswith("403") else DeliveryStatus.FAILED
            return None, (status, failure.reason)
        return _unknown(failure, message)
    if isinstance(answer, Exception):  # decided in _unknown: retry only if Telegram surely did not take it
        return _unknown(answer, message)
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
