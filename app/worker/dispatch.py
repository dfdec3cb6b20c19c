"""After a unit of work commits: hand the outbox rows it wrote to whatever delivers them in this process.

The dispatcher of a process lives in `app.extensions["outbox_dispatcher"]`:
- none (a web process without a runtime, tests): the rows wait for a worker's poll, or `drain_outbox`;
- `InlineDispatcher` (CLI commands): delivered in the calling thread right after the commit;
- the in-process `Pool` (runtime with QUEUE_URL unset) or the broker (QUEUE_URL set, any process):
  queued, the caller returns at once.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Protocol

from flask import Flask, current_app

from app.services import outbox

log = logging.getLogger(__name__)

_KEY = "outbox_dispatcher"


class Dispatcher(Protocol):
    def kick(self, ids: list[int]) -> None: ...


class InlineDispatcher:
    """Deliver right away in the calling thread (a CLI command has no worker to hand them to)."""

    def __init__(self, app: Flask):
        self.app = app

    def kick(self, ids: list[int]) -> None:
        from app.worker.delivery import drain
        drain(self.app, ids=ids)


def init_app(app: Flask) -> None:
    outbox.track_transactions()
    app.teardown_appcontext(_dispatch_at_teardown)


def install(app: Flask, dispatcher: Dispatcher | None) -> Dispatcher | None:
    """Make `dispatcher` this process's; the previous one is returned."""
    previous = app.extensions.get(_KEY)
    app.extensions[_KEY] = dispatcher
    return previous


def dispatcher_of(app: Flask) -> Dispatcher | None:
    """The dispatcher installed in this process; with QUEUE_URL set and none installed, the broker's."""
    dispatcher = app.extensions.get(_KEY)
    if dispatcher is None and app.config.get("QUEUE_URL"):
        from app.worker.broker import BrokerDispatcher
        dispatcher = app.extensions[_KEY] = BrokerDispatcher(app)
    return dispatcher


@contextmanager
def inline(app: Flask):
    """Within the block, committed rows are delivered in the committing thread (CLI commands)."""
    previous = install(app, InlineDispatcher(app))
    try:
        yield
    finally:
        install(app, previous)


def dispatch_committed() -> None:
    """Hand the rows committed in this app context's session to the dispatcher; never raises."""
    ids = outbox.take_committed()
    dispatcher = dispatcher_of(current_app)
    if not ids or dispatcher is None:
        return
    try:
        dispatcher.kick(ids)
    except Exception:  # noqa: BLE001 - the rows are durable; a worker's poll delivers them anyway
        log.exception("outbox: could not dispatch %s committed rows", len(ids))


def _dispatch_at_teardown(_exc) -> None:
    dispatch_committed()
