"""Database wiring: engine options per backend, SQLite pragmas, and retrying a unit of work after a conflict."""
from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

import psycopg2.errors
from flask import Flask
from sqlalchemy import event
from sqlalchemy import exc as sa_exc

from app import prepared
from app.extensions import db
from app.services.errors import TryAgain

log = logging.getLogger(__name__)
T = TypeVar("T")


def init_app(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("sqlite"):
        # Writers wait for each other instead of failing with "database is locked".
        options.setdefault("connect_args", {"timeout": 30})
    elif uri.startswith("postgresql"):
        # During an outage a request fails within seconds instead of hanging on connect.
        options.setdefault("connect_args", {"connect_timeout": 5})
        options.setdefault("pool_size", app.config.get("DB_POOL_SIZE", 16))
        options.setdefault("pool_pre_ping", not app.config.get("DB_PING_IDLE_SECONDS"))
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    if uri.startswith("sqlite"):
        with app.app_context():
            event.listen(db.engine, "connect", _sqlite_pragmas)
    elif uri.startswith("postgresql"):
        with app.app_context():
            prepared.init_engine(db.engine)
            if not options["pool_pre_ping"]:
                ping_when_idle(db.engine, app.config["DB_PING_IDLE_SECONDS"])


#: Where a pooled connection's record keeps when it went back to the pool (time.monotonic()).
IDLE_SINCE = "botfleet_idle_since"


def ping_when_idle(engine, seconds: float) -> None:
    """Ping a connection at checkout when it sat in the pool `seconds` or more; a dead one is replaced, with
    every connection pooled before it (as pool_pre_ping does), so the caller never sees it. A new connection is
    not pinged. A connection that dies while it is used, or within `seconds` of its last use (Postgres restarted
    under traffic), fails that one statement as a disconnect, after which the pool replaces all of them."""
    dialect = engine.dialect

    def checkin(_dbapi_connection, record) -> None:
        if record is not None:
            record.info[IDLE_SINCE] = time.monotonic()

    def checkout(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.pop(IDLE_SINCE, None)
        if idle_since is None or time.monotonic() - idle_since < seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise sa_exc.InvalidatePoolError(str(exc)) from exc
            raise

    event.listen(engine, "checkin", checkin)  # the engine's pool, and the pool dispose() makes in its place
    event.listen(engine, "checkout", checkout)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


#: Postgres error codes after which running the same unit of work again is the remedy.
RETRYABLE_PGCODES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
RETRY_ATTEMPTS = 3


def retrying(operation: Callable[[], T], attempts: int = RETRY_ATTEMPTS) -> T:
    """Run `operation` in a savepoint; after a deadlock, a serialization failure or TryAgain, roll the
    savepoint back (which releases its locks) and run it again, `attempts` times in all.

    Then it raises TryAgain, a DomainError, so the dashboard and the bots answer "try again" instead of
    failing the request. The caller commits as usual.
    """
    for attempt in range(1, attempts + 1):
        try:
            with db.session.begin_nested():
                return operation()
        except (TryAgain, sa_exc.DBAPIError) as exc:
            if not is_retryable(exc):
                raise
            log.warning("conflict with a concurrent transaction (attempt %s of %s): %s", attempt, attempts,
                        type(exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc).__name__)
    raise TryAgain("Another change to the same records got in the way. Please try again.")


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, TryAgain):
        return True
    orig = getattr(exc, "orig", None)
    if isinstance(orig, (psycopg2.errors.DeadlockDetected, psycopg2.errors.SerializationFailure)):
        return True
    return getattr(orig, "pgcode", None) in RETRYABLE_PGCODES
