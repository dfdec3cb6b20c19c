"""The outbox: an outside effect is a row written in the transaction that causes it.

A service calls `enqueue(kind, payload, tenant_id=..., key=...)` and flushes as usual; nothing leaves
the process. After the unit of work (request, bot update, job, CLI command) commits, the committed rows
are dispatched to a worker (app/worker), which calls the function registered for the kind with
`@handler(kind)`, outside that transaction. A rolled-back change never sends anything; a committed one
is delivered at least once, so a handler must be idempotent:

    @outbox.handler("telegram.notice")
    def deliver(message) -> None:          # message is the OutboxMessage row
        ...                                # raise Retry(after_seconds) / Permanent(reason) / anything

A kind whose rows are cheaper handled together (a broadcast's sends) may also register `@batch_handler(kind)`:
a function of a list of rows that answers, per row id, None (done) or the exception its single handler would
have raised (Retry, Permanent, anything else); workers hand it the rows of that kind they claimed at once.
Its rows may also form lanes (`lane=Lane(field, ready)`: rows whose payload has the same `field` share a rate, e.g.
a broadcast's sends through one bot): the in-process pool then hands a lane's rows to a thread only when `ready`
says they may go (app/worker/lanes.py), so no thread waits for one lane while others' rows could go.

A module that defines handlers must be listed in `app.worker.HANDLER_MODULES`, so every worker
process (which may import nothing else of ours) knows the kind.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import OutboxMessage, OutboxStatus
from app.models.types import utcnow

Handler = Callable[[OutboxMessage], None]

#: Keys of `db.session.info`: ids enqueued in the open transaction, and ids committed but not dispatched.
ENQUEUED = "outbox_enqueued"
COMMITTED = "outbox_committed"

_handlers: dict[str, Handler] = {}
BatchHandler = Callable[[list[OutboxMessage]], dict[int, Exception | None]]
_batch_handlers: dict[str, BatchHandler] = {}


class Lane(NamedTuple):
    """Rows of a batch kind that share a rate: those whose payload has the same value of `field`. `ready(value,
    count)` answers the seconds until `count` rows of that lane may go (0: now), without taking anything."""
    field: str
    ready: Callable[[object, int], float]


_lanes: dict[str, Lane] = {}


class Retry(Exception):
    """Deliver again in `after_seconds` (e.g. Telegram's retry_after); not counted as a failure."""

    def __init__(self, after_seconds: float, reason: str = "retry requested"):
        super().__init__(reason)
        self.after_seconds = max(0.0, float(after_seconds))
        self.reason = reason


class Permanent(Exception):
    """Give up on this message for good (the chat is gone, the request is invalid)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the delivery function of `kind` (registering the same kind again replaces it)."""
    def register(fn: Handler) -> Handler:
        _handlers[kind] = fn
        return fn
    return register


def handler_for(kind: str) -> Handler | None:
    return _handlers.get(kind)


def batch_handler(kind: str, lane: Lane | None = None) -> Callable[[BatchHandler], BatchHandler]:
    """Register the function that delivers several rows of `kind` at once (the kind keeps its single handler), and
    the lanes its rows form, if any."""
    def register(fn: BatchHandler) -> BatchHandler:
        _batch_handlers[kind] = fn
        if lane is None:
            _lanes.pop(kind, None)
        else:
            _lanes[kind] = lane
        return fn
    return register


def batch_handler_for(kind: str) -> BatchHandler | None:
    return _batch_handlers.get(kind)


def batch_kinds() -> list[str]:
    """The kinds with a batch handler."""
    return list(_batch_handlers)


def lane_for(kind: str) -> Lane | None:
    return _lanes.get(kind)


def enqueue(kind: str, payload: dict, *, tenant_id: int | None, key: str,
            not_before: datetime | None = None) -> OutboxMessage:
    """Write an outbox row in the current transaction (flush only); the same key again is a no-op.

    :param key: the idempotency key, unique over all rows, e.g. "receipt:42:decision".
    :param not_before: deliver no earlier than this aware datetime (default: as soon as committed).
    """
    values = {"kind": kind, "payload": payload, "tenant_id": tenant_id, "key": key,
              "not_before": not_before or utcnow()}
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (dialect.insert(OutboxMessage.__table__).values(**values)
                 .on_conflict_do_nothing(index_elements=["key"]).returning(OutboxMessage.__table__.c.id))
    new_id = db.session.execute(statement).scalar()
    if new_id is not None:
        db.session.info.setdefault(ENQUEUED, []).append(new_id)
        return db.session.get(OutboxMessage, new_id)
    return db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.key == key)).one()


def enqueue_many(kind: str, rows: list[tuple[str, dict]], *, tenant_id: int | None,
                 delays: list[float] | None = None) -> list[int]:
    """Write many outbox rows of one kind in one statement (flush only); `rows` are (key, payload) pairs, due now
    or, row by row, `delays` seconds from now.

    A key that exists already is skipped, as in `enqueue`. The ids of the rows written.
    """
    if not rows:
        return []
    now = utcnow()
    due = [now + timedelta(seconds=delay) for delay in delays] if delays else [now] * len(rows)
    values = [{"kind": kind, "payload": payload, "tenant_id": tenant_id, "key": key, "not_before": not_before,
               "status": OutboxStatus.PENDING.value, "attempts": 0, "created_at": now}
              for (key, payload), not_before in zip(rows, due)]
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (dialect.insert(OutboxMessage.__table__).on_conflict_do_nothing(index_elements=["key"])
                 .returning(OutboxMessage.__table__.c.id))
    # Parameters as a list: SQLAlchemy's "insertmanyvalues" batches them with one cached compilation.
    new_ids = list(db.session.execute(statement, values).scalars())
    db.session.info.setdefault(ENQUEUED, []).extend(new_ids)
    return new_ids


def take_committed(session=None) -> list[int]:
    """The ids committed since the last call (for the dispatcher), forgetting them."""
    return (session or db.session).info.pop(COMMITTED, [])


def _moved_to_committed(session) -> None:
    enqueued = session.info.pop(ENQUEUED, None)
    if enqueued:
        session.info.setdefault(COMMITTED, []).extend(enqueued)


def _forgotten(session) -> None:
    session.info.pop(ENQUEUED, None)


def track_transactions() -> None:
    """Follow commits and rollbacks of every session: committed ids become dispatchable, rolled back ones vanish."""
    if not sa.event.contains(sa.orm.Session, "after_commit", _moved_to_committed):
        sa.event.listen(sa.orm.Session, "after_commit", _moved_to_committed)
        sa.event.listen(sa.orm.Session, "after_rollback", _forgotten)
