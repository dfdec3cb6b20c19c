"""The one unit-of-work boundary: run, commit (or roll back), then dispatch the outbox.

Requests, bot updates, jobs and CLI commands all end their transaction here, so "commit, then let
the outside world know" is written once. Rows committed anywhere else are dispatched when the app
context ends (app.worker.dispatch) or found by a worker's poll; nothing is sent before its commit.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from app.extensions import db
from app.worker.dispatch import dispatch_committed

T = TypeVar("T")


def commit() -> None:
    """Commit the session, then hand the outbox rows it wrote to the dispatcher."""
    db.session.commit()
    dispatch_committed()


def rollback() -> None:
    db.session.rollback()


@contextmanager
def unit_of_work() -> Iterator[None]:
    """`with unit_of_work(): ...` commits and dispatches on success; rolls back and re-raises on error."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    dispatch_committed()


def run(operation: Callable[[], T]) -> T:
    """`operation()` inside one unit of work; its result."""
    with unit_of_work():
        return operation()
