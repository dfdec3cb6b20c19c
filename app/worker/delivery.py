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
_T = OutboxMessage.__table__


def claim(limit: int, ids: list[int] | None = None, until: datetime | None = None,
          exclude: set[int] | frozenset = frozenset()) -> list[int]:
    """`claim_rows`, the ids only."""
    return [row[0] for row in claim_rows(limit, ids, until, exclude)]


def claim_rows(limit: int, ids: list[int] | None = None, until: datetime | None = None,
               exclude: set[int] | frozenset = frozenset(), kinds: set[str] | None = None,
               other_kinds: set[str] | None = None) -> list[tuple[int, str, dict]]:
    """Take up to `limit` due rows (optionally only these ids, only of `kinds`, or none of `other_kinds`) for this
    worker and commit the claim: (id, kind, payload), in id order.

    One statement picks and marks them (UPDATE ... WHERE id IN (SELECT ... LIMIT) RETURNING). Postgres skips rows
    another worker is claiming (FOR UPDATE SKIP LOCKED in the pick); SQLite has one writer, and the UPDATE holds the
    database write lock from its pick to its commit. A claimed row is leased for LEASE_SECONDS.
    """
    now = utcnow()
    pick = (sa.select(_T.c.id)
            .where(_T.c.status.in_(_LIVE), _T.c.not_before <= (until or now))
            .order_by(_T.c.not_before, _T.c.id).limit(limit)
            .with_for_update(skip_locked=True))
    if ids is not None:
        pick = pick.where(_T.c.id.in_(ids))
    if exclude:
        pick = pick.where(_T.c.id.not_in(exclude))
    if kinds is not None:
        pick = pick.where(_T.c.kind.in_(kinds))
    if other_kinds:
        pick = pick.where(_T.c.kind.not_in(other_kinds))
    rows = db.session.execute(  # Core statements on the table: no ORM bulk-update machinery per claim
        sa.update(_T).where(_T.c.id.in_(pick.scalar_subquery()))
        .values(status=OutboxStatus.SENDING.value, attempts=_T.c.attempts + 1,
                not_before=now + timedelta(seconds=lease_seconds()))
        .returning(_T.c.id, _T.c.kind, _T.c.payload)).all()
    db.session.commit()
    return sorted(((row.id, row.kind, row.payload) for row in rows), key=lambda row: row[0])


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


def deliver_many(message_ids: list[int]) -> dict[int, str]:
    """Deliver claimed rows: those of a kind with a batch handler (`outbox.batch_handler`) together, in one call
    and one acknowledgement per outcome, the others one by one (`deliver`); the new status of each row."""
    rows = db.session.execute(sa.select(_T.c.id, _T.c.kind, _T.c.payload, _T.c.attempts)
                              .where(_T.c.id.in_(message_ids), _T.c.status == OutboxStatus.SENDING.value)
                              .order_by(_T.c.id)).all()
    db.session.rollback()
    statuses = {message_id: "skipped" for message_id in message_ids}
    batches: dict[str, list] = {}
    for row in rows:
        if _batch_handler(row.kind) is not None:
            batches.setdefault(row.kind, []).append(row)
        else:
            statuses[row.id] = _deliver_alone(row.id)
    for kind, batch in batches.items():
        if len(batch) == 1:
            statuses[batch[0].id] = _deliver_alone(batch[0].id)
            continue
        try:
            outcomes = _batch_handler(kind)(batch)
        except Exception as exc:  # noqa: BLE001 - as for one row: retried with backoff, then given up
            log.warning("outbox batch of %s %s failed: %s", len(batch), kind, type(exc).__name__, exc_info=True)
            outcomes = {row.id: exc for row in batch}
        statuses.update(finish_many(outcomes))
    return statuses


def _deliver_alone(message_id: int) -> str:
    """`deliver` in a session of its own (as when each row had its own app context)."""
    try:
        return deliver(message_id)
    finally:
        db.session.remove()


def _batch_handler(kind: str):
    handle = outbox.batch_handler_for(kind)
    if handle is None and outbox.handler_for(kind) is None:
        from app.worker import load_handlers
        load_handlers()
        handle = outbox.batch_handler_for(kind)
    return handle


def finish_many(outcomes: dict[int, BaseException | None]) -> dict[int, str]:
    """Acknowledge a batch's rows (still held by this worker): one statement for the done, one for the rescheduled
    (each its own time and reason), one for the permanently refused; a failure goes the single row's way."""
    db.session.rollback()
    now = utcnow()
    done = [i for i, outcome in outcomes.items() if outcome is None]
    retries = {i: o for i, o in outcomes.items() if isinstance(o, outbox.Retry)}
    dead = {i: o.reason[:500] for i, o in outcomes.items() if isinstance(o, outbox.Permanent)}
    failed = {i: o for i, o in outcomes.items() if o is not None and i not in retries and i not in dead}
    held = (_T.c.id.in_, _T.c.status == OutboxStatus.SENDING.value)
    if done:
        db.session.execute(sa.update(_T).where(held[0](done), held[1])
                           .values(status=OutboxStatus.DONE.value, done_at=now, last_error=None))
    if dead:
        db.session.execute(sa.update(_T).where(held[0](list(dead)), held[1])
                           .values(status=OutboxStatus.DEAD.value, done_at=now,
                                   last_error=sa.case(dead, value=_T.c.id)))
    if retries:
        when = {i: sa.literal(now + timedelta(seconds=o.after_seconds), _T.c.not_before.type)
                for i, o in retries.items()}
        db.session.execute(sa.update(_T).where(held[0](list(retries)), held[1])
                           .values(status=OutboxStatus.PENDING.value, attempts=_T.c.attempts - 1,
                                   not_before=sa.case(when, value=_T.c.id),
                                   last_error=sa.case({i: o.reason[:500] for i, o in retries.items()},
                                                      value=_T.c.id)))
    db.session.commit()
    statuses = {i: OutboxStatus.DONE.value for i in done}
    statuses.update({i: OutboxStatus.DEAD.value for i in dead})
    statuses.update({i: OutboxStatus.PENDING.value for i in retries})
    for message_id, exc in failed.items():
        statuses[message_id] = _failed(message_id, f"{type(exc).__name__}: {exc}")
    return statuses


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
        with app.app_context():
            deliver_many(claimed)
        delivered.extend(claimed)
