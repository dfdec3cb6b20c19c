"""The broadcast pump (outbox kind `broadcast.pump`): fans a confirmed broadcast out in bounded batches.

One pump row per broadcast and generation. Each round, under the broadcast's row lock:
1. held recipients (their send ran while paused) are queued again, at most BROADCAST_BATCH;
2. if more than BROADCAST_WINDOW recipients per chosen bot are queued or sending, it waits (the senders catch up);
3. else the next BROADCAST_BATCH recipients after `cursor_member_id` (the segment as of `started_at`,
   in member id order; with several chosen bots, a round where some bot has less than half a share in flight
   takes those bots' next FIRST_SECONDS of sends instead (every bot's in the first round), and the rounds in id
   order skip them) get a delivery row and a `broadcast.send` outbox row, and the cursor moves,
   all in one transaction: a crash repeats the round or none of it, never half. Each bot's new send rows
   fall due at its Telegram limit (TELEGRAM_LIMIT_PER_BOT) after the ones it has in flight, PACE_SECONDS' worth
   at a time, a window but one step early (its first window's worth at once), so the due rows are every bot's next
   sends side by side, not one bot's hundreds that its limit would hold back (the segment is in member id order, and
   a tenant's members often came bot by bot);
4. once every recipient has its row and none is left queued, sending or held, the broadcast is done.
The round ends by raising `outbox.Retry`, so the same row runs again (at once after work, in a second while
too many are in flight, else in IDLE_SECONDS). A pause, a cancel or a newer generation (a resume) ends this pump.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app
from limits import RateLimitItem, parse

from app.extensions import db
from app.models import Broadcast, BroadcastDelivery, BroadcastStatus, DeliveryStatus, OutboxMessage, Tenant
from app.services import outbox
from app.services.broadcasts import PUMP, finish, segments
from app.services.broadcasts.segments import Segment
from app.services.locking import lock_row

log = logging.getLogger(__name__)

SEND = "broadcast.send"
#: Recipients written per round, and the most queued + sending at a time (config overrides).
BATCH, WINDOW = 500, 2000
#: Once every recipient is written, how often the pump looks whether the last ones are handled (the broadcast
#: is `done` at most this late; a round is a few indexed statements).
IDLE_SECONDS = 0.25
#: A bot's send rows fall due in steps of this many seconds (its limit's worth each), so a worker claims and
#: sends a few of one bot together rather than one row per wake-up.
PACE_SECONDS = 0.5
#: With several chosen bots, a bot's share (every bot's in the first round, later a top-up of a bot running low) is
#: this many seconds of its sends at its limit (or BROADCAST_BATCH / bots if more; at most twice BROADCAST_BATCH in
#: all): enough for the rounds in member id order to reach the bot's members before its share is sent.
FIRST_SECONDS = 3.0
_IN_FLIGHT = (DeliveryStatus.QUEUED.value, DeliveryStatus.SENDING.value, DeliveryStatus.HELD.value)


@outbox.handler(PUMP)
def pump(message: OutboxMessage) -> None:
    try:
        again = step(message.payload["broadcast_id"], message.payload["generation"])
    except Exception as exc:  # noqa: BLE001 - a long-lived row: never let its attempts run out
        db.session.rollback()
        log.warning("broadcast pump %s failed: %s", message.id, exc, exc_info=True)
        raise outbox.Retry(5, f"pump round failed: {type(exc).__name__}") from None
    if again is not None:
        raise outbox.Retry(again, "broadcast continues")


def step(broadcast_id: int, generation: int) -> float | None:
    """One round (committed); seconds until the next, or None when this pump is over."""
    broadcast = lock_row(Broadcast, broadcast_id)
    if broadcast is None or broadcast.status != BroadcastStatus.SENDING.value or broadcast.generation != generation:
        db.session.commit()
        return None
    batch, window = _limits()
    requeued = requeue_held(broadcast, batch)
    per_bot, last = _in_flight(broadcast.id)
    in_flight = sum(per_bot.values())
    if in_flight > window * max(len(broadcast.bot_ids or ()), 1):
        db.session.commit()
        return 1.0
    added = 0 if broadcast.fanned_out else fan_out(broadcast, batch, per_bot, last)
    if broadcast.fanned_out and not (in_flight or added):
        finish(broadcast, BroadcastStatus.DONE)
        db.session.commit()
        return None
    db.session.commit()
    return 0.0 if requeued or added else IDLE_SECONDS


def _limits() -> tuple[int, int]:
    config = current_app.config
    return int(config.get("BROADCAST_BATCH", BATCH)), int(config.get("BROADCAST_WINDOW", WINDOW))


def _in_flight(broadcast_id: int) -> tuple[dict[int | None, int], dict[int | None, int]]:
    """The broadcast's recipients queued, sending or held, per bot: how many, and the last member id among them."""
    rows = db.session.execute(
        sa.select(BroadcastDelivery.bot_id, sa.func.count(), sa.func.max(BroadcastDelivery.member_id))
        .where(BroadcastDelivery.broadcast_id == broadcast_id, BroadcastDelivery.status.in_(_IN_FLIGHT))
        .group_by(BroadcastDelivery.bot_id)).all()
    return {bot_id: count for bot_id, count, _ in rows}, {bot_id: last for bot_id, _, last in rows}


def fan_out(broadcast: Broadcast, batch: int, in_flight: dict[int | None, int] | None = None,
            last: dict[int | None, int] | None = None) -> int:
    """Write the next batch of delivery rows and their send rows, each bot's paced after its `in_flight`
    (`_paced`); how many were written.

    With several chosen bots, a round where some bot has fewer than half a `_first_share` in flight writes those bots'
    next `_first_share` recipients instead (the cursor stays): the first round every bot's, so every bot sends from
    the start, and later any bot whose members the rounds in id order have not reached yet (members came bot by bot)
    before it runs dry; the rounds in id order skip the recipients written so. A bot's are written in id order from
    the cursor, so its next ones come after the `last` member id it has in flight (if after the cursor): the query
    never walks again over the bot's members written before."""
    tenant = db.session.get(Tenant, broadcast.tenant_id)
    segment, bot_ids = Segment.from_dict(broadcast.segment), broadcast.bot_ids or []
    several = len(bot_ids) > 1
    rows = []
    if several:
        share = _first_share(batch, len(bot_ids))
        low = [bot_id for bot_id in bot_ids if (in_flight or {}).get(bot_id, 0) < max(share // 2, 1)]
        if low:
            cursor = broadcast.cursor_member_id or 0
            rows = segments.first_per_bot(tenant, segment, bot_ids, broadcast.started_at, share,
                                          after={bot_id: max(cursor, (last or {}).get(bot_id) or 0) for bot_id in low},
                                          unwritten=broadcast.id)
    per_bot_round = bool(rows)
    if not per_bot_round:
        rows = segments.after(tenant, segment, bot_ids, broadcast.started_at, broadcast.cursor_member_id, batch,
                              unwritten=broadcast.id if several else None)
        if len(rows) < batch:
            broadcast.fanned_out = True
    if not rows:
        return 0
    bots = segments.chosen_bots([row.id for row in rows], broadcast.bot_ids)
    default = segments.default_language(tenant)
    values = [_delivery(broadcast, row, bots.get(row.id), default) for row in rows]
    written = db.session.execute(sa.insert(BroadcastDelivery.__table__)
                                 .returning(BroadcastDelivery.id, BroadcastDelivery.status, BroadcastDelivery.bot_id),
                                 values).all()
    queued = [(delivery_id, bot_id) for delivery_id, status, bot_id in written if status == DeliveryStatus.QUEUED.value]
    # Written in the order they fall due, a bot's together within a step: claimed in (due, id) order, a worker's
    # batch is then mostly one bot's sends, which go side by side (bots/broadcast_outbound.py).
    due = sorted(zip(_paced([bot_id for _, bot_id in queued], in_flight or {}), queued),
                 key=lambda item: (item[0], item[1][1], item[1][0]))
    _queue(broadcast, [(delivery_id, 1, bot_id) for _, (delivery_id, bot_id) in due], [delay for delay, _ in due])
    if not per_bot_round:
        broadcast.cursor_member_id = rows[-1].id
    return len(rows)


def _first_share(batch: int, bots: int) -> int:
    """Recipients per bot of a per-bot round (`fan_out`): FIRST_SECONDS of sends at the limit, or batch / bots if more,
    at most 2 × batch in all."""
    seconds = int(_per_second(_bot_limit()) * FIRST_SECONDS)
    return max(min(max(batch // bots, seconds), 2 * batch // bots), 1)


def _bot_limit() -> RateLimitItem:
    """A bot's Telegram send limit (TELEGRAM_LIMIT_PER_BOT)."""
    return parse(current_app.config.get("TELEGRAM_LIMIT_PER_BOT", "30/second"))


def _per_second(limit: RateLimitItem) -> float:
    return limit.amount / limit.get_expiry()


def _paced(bot_ids: list[int], in_flight: dict[int | None, int]) -> list[float]:
    """Per new send (of these bots, in order): seconds from now until it is due. A bot's n-th send counting
    those it has in flight is due after the n - 1 before it at its limit, rounded down to PACE_SECONDS steps, a window
    but one step early: a moving window lets a window's worth go at once (a bot's first window is due now), and each
    later window's as the one before leaves it. Paced at the limit itself, a bot's first window went over its first
    PACE_SECONDS steps and every later window kept that spread, so its last sends went that much later."""
    limit = _bot_limit()
    per_step = max(int(_per_second(limit) * PACE_SECONDS), 1)
    early = max(limit.amount - per_step, 0)
    seen = dict(in_flight)
    delays = []
    for bot_id in bot_ids:
        ahead = seen.get(bot_id, 0)
        seen[bot_id] = ahead + 1
        delays.append(max(ahead - early, 0) // per_step * PACE_SECONDS)
    return delays


def _delivery(broadcast: Broadcast, row, bot_id: int | None, default_language: str) -> dict:
    """A delivery row's values: queued through the member's bot, or blocked when every chosen bot is."""
    status = DeliveryStatus.QUEUED if bot_id else DeliveryStatus.BLOCKED
    return {"tenant_id": broadcast.tenant_id, "broadcast_id": broadcast.id, "member_id": row.id, "bot_id": bot_id,
            "chat_id": row.telegram_id, "language": segments.member_language(row.language_code, default_language),
            "status": status.value, "tries": 1,
            "error": None if bot_id else "the member blocked every chosen bot"}


def requeue_held(broadcast: Broadcast, batch: int) -> int:
    """Queue again (new send rows) up to `batch` recipients held by a pause; how many."""
    held = list(db.session.scalars(sa.select(BroadcastDelivery).where(
        BroadcastDelivery.broadcast_id == broadcast.id, BroadcastDelivery.status == DeliveryStatus.HELD.value)
        .order_by(BroadcastDelivery.id).limit(batch)))
    for delivery in held:
        delivery.status, delivery.tries = DeliveryStatus.QUEUED.value, delivery.tries + 1
    db.session.flush()
    _queue(broadcast, [(d.id, d.tries, d.bot_id) for d in held])
    return len(held)


def _queue(broadcast: Broadcast, deliveries: list[tuple[int, int, int | None]],
           delays: list[float] | None = None) -> None:
    """One `broadcast.send` outbox row per (delivery id, try, bot id), due now or `delays` seconds from now; the bot
    names the row's lane in the in-process pool (app/worker/lanes.py)."""
    outbox.enqueue_many(SEND, [(f"broadcast:{broadcast.id}:d{delivery_id}:t{tries}",
                                {"broadcast_id": broadcast.id, "delivery_id": delivery_id, "bot_id": bot_id})
                               for delivery_id, tries, bot_id in deliveries], tenant_id=broadcast.tenant_id,
                        delays=delays)
