"""The states of one recipient's delivery, for the send handler (bots/broadcast_outbound.py).

Once each: `begin` takes a queued delivery (under its row lock) and the handler, after Telegram's limits
allow the send, writes all of the request but its last byte, then `mark`s the delivery `sending` and
commits, then writes the last byte (bots/committed_send.py). A later run that finds a delivery still
`sending` knows a worker died after Telegram had the whole request (its answer was never recorded): it is
recorded `sent`, without a message id ("unconfirmed"), and never sent again. Each function flushes; the
handler commits.
"""
from __future__ import annotations

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
