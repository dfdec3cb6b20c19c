"""The states of one recipient's delivery, for the send handler (bots/broadcast_outbound.py).

Once each: `begin` takes a queued delivery (under its row lock) and the handler, after Telegram's limits
allow the send, writes all of the request but its last byte, then `mark`s the delivery `sending` and
commits, then writes the last byte (bots/committed_send.py). A later run that finds a delivery still
`sending` knows a worker died after Telegram had the whole request (its answer was never recorded): it is
recorded `sent`, without a message id ("unconfirmed"), and never sent again. Each function flushes; the
handler commits.
"""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Broadcast, BroadcastDelivery, BroadcastStatus, DeliveryStatus
from app.models.broadcasts import FINAL_DELIVERY_STATES
from app.services import clock
from app.services.locking import lock_row

UNCONFIRMED = "unconfirmed: the worker stopped after Telegram had the whole request, before its answer"


def begin(delivery_id: int) -> tuple[BroadcastDelivery, Broadcast] | None:
    """Lock a queued delivery that is to be sent now; None when there is nothing to send (and why is recorded)."""
    delivery = lock_row(BroadcastDelivery, delivery_id)
    if delivery is None or delivery.status in FINAL_DELIVERY_STATES or delivery.status == DeliveryStatus.HELD.value:
        return None
    if delivery.status == DeliveryStatus.SENDING.value:
        return _unconfirmed(delivery)
    broadcast = db.session.get(Broadcast, delivery.broadcast_id)
    if broadcast.status == BroadcastStatus.CANCELLED.value:
        return _end(delivery, DeliveryStatus.CANCELLED)
    if broadcast.status != BroadcastStatus.SENDING.value:
        return _end(delivery, DeliveryStatus.HELD)
    return delivery, broadcast


def mark(delivery: BroadcastDelivery) -> None:
    """Telegram has all of the request but its last byte: from the commit of this on, it counts as sent."""
    delivery.status = DeliveryStatus.SENDING.value


def _unconfirmed(delivery: BroadcastDelivery) -> None:
    delivery.status, delivery.sent_at, delivery.error = DeliveryStatus.SENT.value, clock.now(), UNCONFIRMED
    return None


def _end(delivery: BroadcastDelivery, status: DeliveryStatus, error: str | None = None) -> None:
    delivery.status = status.value
    if error:
        delivery.error = error[:300]
    return None


def sent(delivery: BroadcastDelivery, message_id: int | None) -> None:
    delivery.status, delivery.message_id, delivery.sent_at = DeliveryStatus.SENT.value, message_id, clock.now()


def blocked(delivery: BroadcastDelivery, reason: str) -> None:
    _end(delivery, DeliveryStatus.BLOCKED, reason)


def failed(delivery: BroadcastDelivery, reason: str) -> None:
    _end(delivery, DeliveryStatus.FAILED, reason)


def again(delivery: BroadcastDelivery, reason: str) -> None:
    """Telegram did not take it (429, a refused connection, a 5xx): queued again, its outbox row retries."""
    _end(delivery, DeliveryStatus.QUEUED, reason)


def remember_photo(broadcast: Broadcast, bot_id: int, file_id: str) -> None:
    """Keep Telegram's file_id of the uploaded photo: the bot's next sends reuse it instead of uploading."""
    if (broadcast.photo_file_ids or {}).get(str(bot_id)) != file_id:
        broadcast.photo_file_ids = {**(broadcast.photo_file_ids or {}), str(bot_id): file_id}


# --- A batch of deliveries (bots/broadcast_outbound.py `deliver_batch`): one statement per step, on one connection.

_D = BroadcastDelivery.__table__
_OPEN = (DeliveryStatus.QUEUED.value, DeliveryStatus.SENDING.value)
#: Postgres: pg_advisory_lock(SENDER_LOCK_CLASS, delivery id), a session lock, is held by the sender of a delivery
#: from its `sending` UPDATE until its outcome is recorded, so that a second run of the same send (two broker
#: messages of one row) tells "the sender is still waiting for Telegram's answer" (the lock is held: leave it) from
#: "the sender is gone" (its session ended with it and freed the lock: `sending` is read as sent, unconfirmed).
SENDER_LOCK_CLASS = 0x5E4D
_HELD = "botfleet_sender_locks"


def take(conn, delivery_ids: list[int]) -> tuple[list, set[int], set[int]]:
    """Read a batch of deliveries with their broadcast's status (skipping rows another worker has locked) and
    record, one statement per kind, what `begin` would for those not to be sent; commits.

    Returns (the rows to send now: id, broadcast_id, bot_id, chat_id, language; the ids with nothing to send; the
    ids locked elsewhere). A taken row is not locked past this commit: `mark_sending_many` only moves it from `queued`.
    """
    b = Broadcast.__table__
    query = (sa.select(_D.c.id, _D.c.broadcast_id, _D.c.bot_id, _D.c.chat_id, _D.c.language, _D.c.status,
                       b.c.status.label("broadcast_status"))
             .join(b, b.c.id == _D.c.broadcast_id).where(_D.c.id.in_(delivery_ids)).order_by(_D.c.id)
             .with_for_update(of=_D, skip_locked=True))
    rows = conn.execute(query).all()
    found = {row.id for row in rows}
    missing = set(delivery_ids) - found
    locked = set(conn.scalars(sa.select(_D.c.id).where(_D.c.id.in_(missing)))) if missing else set()
    nothing = missing - locked
    to_send, unconfirmed, cancelled, held = [], [], [], []
    for row in rows:
        if row.status in FINAL_DELIVERY_STATES or row.status == DeliveryStatus.HELD.value:
            nothing.add(row.id)
        elif row.status == DeliveryStatus.SENDING.value:
            unconfirmed.append(row.id)
        elif row.broadcast_status == BroadcastStatus.CANCELLED.value:
            cancelled.append(row.id)
        elif row.broadcast_status != BroadcastStatus.SENDING.value:
            held.append(row.id)
        else:
            to_send.append(row)
    if unconfirmed:
        unconfirm = (sa.update(_D).where(_D.c.id.in_(unconfirmed), _D.c.status == DeliveryStatus.SENDING.value)
                     .values(status=DeliveryStatus.SENT.value, sent_at=clock.now(), error=UNCONFIRMED))
        if _postgres(conn):  # only where the sender's session is gone (its lock free); a live one is left alone
            unconfirm = unconfirm.where(sa.func.pg_try_advisory_xact_lock(SENDER_LOCK_CLASS, _D.c.id))
            gone = set(conn.scalars(unconfirm.returning(_D.c.id)))
            locked.update(set(unconfirmed) - gone)
            unconfirmed = [i for i in unconfirmed if i in gone]
        else:
            conn.execute(unconfirm)
    for ids, status in ((cancelled, DeliveryStatus.CANCELLED), (held, DeliveryStatus.HELD)):
        if ids:
            conn.execute(sa.update(_D).where(_D.c.id.in_(ids), _D.c.status == DeliveryStatus.QUEUED.value)
                         .values(status=status.value))
    nothing.update(unconfirmed, cancelled, held)
    conn.commit()
    return to_send, nothing, locked


def mark_sending_many(conn, delivery_ids: list[int]) -> set[int]:
    """Queued → sending, committed (Telegram has all of each request but its last byte), for several deliveries in
    one statement: the ids that moved, each with its sender lock on Postgres; the others are no longer queued and
    must not be sent."""
    move = (sa.update(_D).where(_D.c.id.in_(delivery_ids), _D.c.status == DeliveryStatus.QUEUED.value)
            .values(status=DeliveryStatus.SENDING.value))
    if _postgres(conn):
        move = move.returning(_D.c.id, sa.func.pg_advisory_lock(SENDER_LOCK_CLASS, _D.c.id))
    else:
        move = move.returning(_D.c.id)
    moved = {row[0] for row in conn.execute(move)}
    if moved and _postgres(conn):
        conn.info.setdefault(_HELD, set()).update(moved)
    conn.commit()
    return moved


def release(conn) -> None:
    """Free the sender locks this connection still holds (`record` frees those of the outcomes it wrote; this is
    for a batch that failed before)."""
    if conn.info.get(_HELD):
        if conn.in_transaction():
            conn.rollback()
        _unlock(conn)
        conn.commit()


def _unlock(conn) -> None:
    """Free this connection's sender locks (a session lock is freed at once, whatever becomes of the transaction)."""
    held = conn.info.pop(_HELD, None)
    if held:
        conn.execute(_UNLOCK, {"k": SENDER_LOCK_CLASS, "ids": sorted(held)})


_UNLOCK = sa.text("SELECT pg_advisory_unlock(:k, id) FROM unnest(CAST(:ids AS integer[])) AS id")


def _postgres(conn) -> bool:
    return conn.dialect.name == "postgresql"


def record(conn, sent_ids: dict[int, int | None], ended: dict[int, tuple[DeliveryStatus, str]]) -> None:
    """The outcomes of a batch's sends: one statement for the sent (with their message ids), one per other status
    (blocked, failed, queued again), only for deliveries still queued or `sending`; frees the sender locks and
    commits."""
    if sent_ids:
        with_id = {d: m for d, m in sent_ids.items() if m is not None}
        values = {"status": DeliveryStatus.SENT.value, "sent_at": clock.now()}
        if with_id:
            values["message_id"] = sa.case(with_id, value=_D.c.id, else_=_D.c.message_id)
        conn.execute(sa.update(_D).where(_D.c.id.in_(list(sent_ids)), _D.c.status == DeliveryStatus.SENDING.value)
                     .values(**values))
    by_status: dict[DeliveryStatus, dict[int, str]] = {}
    for delivery_id, (status, reason) in ended.items():
        by_status.setdefault(status, {})[delivery_id] = (reason or "")[:300]
    for status, reasons in by_status.items():
        conn.execute(sa.update(_D).where(_D.c.id.in_(list(reasons)), _D.c.status.in_(_OPEN))
                     .values(status=status.value, error=sa.case(reasons, value=_D.c.id, else_=_D.c.error)))
    _unlock(conn)  # the outcomes are written: a second run that sees them committed finds no sender lock
    conn.commit()


def remember_photos(conn, broadcast_id: int, file_ids: dict[str, str]) -> None:
    """Merge newly learnt photo file_ids (per bot) into the broadcast; commits."""
    b = Broadcast.__table__
    current = conn.scalar(sa.select(b.c.photo_file_ids).where(b.c.id == broadcast_id).with_for_update()) or {}
    if any(current.get(k) != v for k, v in file_ids.items()):
        conn.execute(sa.update(b).where(b.c.id == broadcast_id).values(photo_file_ids={**current, **file_ids}))
    conn.commit()
