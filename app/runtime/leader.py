"""The leader lock: only the process holding it runs the scheduler and the bots.

Postgres: a session-level `pg_try_advisory_lock` on a connection of its own (not from the request
pool), so the lock lives exactly as long as that connection: a killed process or a broken connection
frees it for another worker. SQLite: an OS file lock next to the database file.
"""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import filelock
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

#: The advisory lock key (advisory locks are per database, so test databases do not collide).
LOCK_KEY = int.from_bytes(hashlib.sha256(b"botfleet:runtime-leader").digest()[:8], "big", signed=True)
#: Seconds of TCP silence before the kernel probes the lock connection (detects a vanished server).
_KEEPALIVE = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3}


class PostgresLeaderLock:
    """`pg_try_advisory_lock` held on a dedicated connection."""

    def __init__(self, url: URL | str, key: int = LOCK_KEY):
        self.key = key
        self._engine = sa.create_engine(make_url(url), poolclass=NullPool, isolation_level="AUTOCOMMIT",
                                        connect_args={"connect_timeout": 3, **_KEEPALIVE})
        self._conn: sa.Connection | None = None
        self.held = False
        #: The last attempt failed because the database did not answer (not because another holds it).
        self.unreachable = False

    def try_acquire(self) -> bool:
        """Take the lock if free; the connection is kept between attempts and replaced if broken."""
        try:
            self._conn = self._conn or self._engine.connect()
            self.held = bool(self._conn.scalar(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}))
            self.unreachable = False
        except sa.exc.DBAPIError as err:
            log.warning("leader lock: database unavailable (%s)", err.orig.__class__.__name__)
            self._drop_connection()
            self.unreachable = True
        return self.held

    def still_held(self) -> bool:
        """True while the lock's connection answers; False (and forgotten) once it broke."""
        if not self.held or self._conn is None:
            return False
        try:
            self._conn.scalar(sa.text("SELECT 1"))
            return True
        except sa.exc.DBAPIError:
            log.warning("leader lock: its connection broke; the lock is lost")
            self._drop_connection()
            return False

    def release(self) -> None:
        if self._conn is not None and self.held:
            try:
                self._conn.scalar(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            except sa.exc.DBAPIError:
                pass
        self._drop_connection()

    def close(self) -> None:
        self.release()
        self._engine.dispose()

    def _drop_connection(self) -> None:
        self.held = False
        if self._conn is not None:
            try:
                self._conn.invalidate()
                self._conn.close()
            except Exception:  # the connection is already gone; nothing to free
                pass
        self._conn = None


class FileLeaderLock:
    """An OS file lock (flock), freed by the kernel when the holding process dies."""

    unreachable = False

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = filelock.FileLock(str(self.path), thread_local=False)

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def try_acquire(self) -> bool:
        try:
            self._lock.acquire(timeout=0)
        except filelock.Timeout:
            return False
        return True

    def still_held(self) -> bool:
        return self._lock.is_locked

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release(force=True)

    def close(self) -> None:
        self.release()


def leader_lock_for(app):
    """The right lock for the app's database."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql":
        return PostgresLeaderLock(url)
    if url.get_backend_name() == "sqlite":
        return FileLeaderLock(_sqlite_lock_path(app, url))
    raise RuntimeError(f"no leader lock for the {url.get_backend_name()} backend")


def _sqlite_lock_path(app, url: URL) -> Path:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        return Path(database + ".leader.lock")
    return Path(app.instance_path) / "leader.lock"
