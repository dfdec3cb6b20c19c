"""Claim due outbox rows and deliver them, one short transaction each side of the outside call."""
from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import OutboxMessage, OutboxStatus
from app.models.types import utcnow
from app.services import outbox

log = logging.getLogger(__name__)

#: A claimed row is due again after this many seconds if its worker died before acknowledging it.
LEASE_SECONDS = 60
#: Failures (not Retry) after which a row is dead.
MAX_ATTEMPTS = 10
#: Backoff after the n-th failure: BASE * 2**(n-1) seconds, capped, with jitter.
BACKOFF_BASE_SECONDS = 5
BACKOFF_CAP_SECONDS = 3600

_LIVE = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)


def claim(limit: int, ids: list[int] | None = None, until: datetime | None = None,
          exclude: set[int] | frozenset = frozenset()) -> list[int]:
    """Take up to `limit` due rows (optionally only these ids) for this worker and commit the claim.

    Postgres skips rows another worker is claiming (FOR UPDATE SKIP LOCKED); SQLite has one writer,
    so the claim first takes the database write lock. A claimed row is leased for LEASE_SECONDS.
    """
    now = utcnow()
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == -1).values(attempts=0))
    query = (sa.select(OutboxMessage.id)
             .where(OutboxMessage.status.in_(_LIVE), OutboxMessage.not_before <= (until or now))
             .order_by(OutboxMessage.not_before, OutboxMessage.id).limit(limit)
             .with_for_update(skip_locked=True))
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    if exclude:
        query = query.where(OutboxMessage.id.not_in(exclude))
    claimed = list(db.session.scalars(query))
    if claimed:
        db.session.execute(
            sa.update(OutboxMessage).where(OutboxMessage.id.in_(claimed))
            .values(status=OutboxStatus.SENDING.value, attempts=OutboxMessage.attempts + 1,
                    not_before=now + timedelta(seconds=lease_seconds())),
            execution_options={"synchronize_session": False})
    db.session.commit()
    return claimed


def next_due() -> datetime | None:
    """When the earliest live row falls due: a pending row's not_before, a claimed row's lease end (None: no row)."""
    due = db.session.scalar(sa.select(sa.func.min(OutboxMessage.not_before)).where(OutboxMessage.status.in_(_LIVE)))
    db.session.rollback()
    return due


def lease_seconds() -> float:
    """How long a claimed (or broker-handed) row is left alone before it counts as lost (OUTBOX_LEASE_SECONDS)."""
    return float(current_app.config.get("OUTBOX_LEASE_SECONDS", LEASE_SECONDS))


def deliver(message_id: int) -> str:
    """Run the handler of one claimed row and record the outcome; the new status."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.status != OutboxStatus.SENDING.value:
        db.session.rollback()
        return "skipped"
    try:
        _handle(message)
    except outbox.Retry as retry:  # not a failure: the claim's attempt is given back
        return _finish(message_id, _later(retry.after_seconds), retry.reason, uncount=True)
    except outbox.Permanent as gone:
        return _finish(message_id, None, gone.reason, dead=True)
    except Exception as exc:  # noqa: BLE001 - any failure is retried with backoff, then given up
        log.warning("outbox %s (%s) failed: %s", message_id, message.kind, type(exc).__name__, exc_info=True)
        return _failed(message_id, f"{type(exc).__name__}: {exc}")
    return _finish(message_id, None, None, done=True)


def _handle(message: OutboxMessage) -> None:
    handle = outbox.handler_for(message.kind)
    if handle is None:
        from app.worker import load_handlers
        load_handlers()
        handle = outbox.handler_for(message.kind)
    if handle is None:
        raise LookupError(f"no outbox handler for {message.kind!r}")
    handle(message)


def _failed(message_id: int, error: str) -> str:
    db.session.rollback()
    attempts = db.session.scalar(sa.select(OutboxMessage.attempts).where(OutboxMessage.id == message_id)) or 0
    if attempts >= MAX_ATTEMPTS:
        return _finish(message_id, None, error, dead=True)
    return _finish(message_id, _later(backoff_seconds(attempts)), error)


def backoff_seconds(attempts: int) -> float:
    delay = min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS)
    return delay * random.uniform(0.8, 1.2)


def _later(seconds: float) -> datetime:
    return utcnow() + timedelta(seconds=seconds)


def _finish(message_id: int, not_before: datetime | None, error: str | None,
            done: bool = False, dead: bool = False, uncount: bool = False) -> str:
    """Acknowledge a row this worker still holds (status sending): done, dead, or pending again."""
    if done or dead:
        values = {"status": OutboxStatus.DONE.value if done else OutboxStatus.DEAD.value, "done_at": utcnow()}
    else:
        values = {"status": OutboxStatus.PENDING.value, "not_before": not_before}
    if uncount:
        values["attempts"] = OutboxMessage.attempts - 1  # the claim counted one
    values["last_error"] = error[:500] if error else None
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.SENDING.value)
        .values(**values), execution_options={"synchronize_session": False})
    db.session.commit()
    return values["status"]


def remember(message: OutboxMessage, **result) -> None:
    """Record (and commit at once) what the outside world answered, e.g. the message_id of a send.

    A handler calls this right after its effect happened, so a re-run after a crash sees it and does
    not repeat the effect. The window left is between the outside call returning and this commit.
    """
    message.result = {**(message.result or {}), **result}
    db.session.commit()


def drain(app, ids: list[int] | None = None, until: datetime | None = None, batch: int = 50) -> list[int]:
    """Deliver every due row (or only `ids`) in this thread, each at most once; the ids delivered."""
    delivered: list[int] = []
    while True:
        with app.app_context():
            claimed = claim(batch, ids=ids, until=until, exclude=set(delivered))
        if not claimed:
            return delivered
        for message_id in claimed:
            with app.app_context():
                deliver(message_id)
            delivered.append(message_id)
