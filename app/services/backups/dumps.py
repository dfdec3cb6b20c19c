"""Consistent copies of the whole database: pg_dump on Postgres, the SQLite online-backup API on SQLite."""
from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url


class DumpFailed(Exception):
    """pg_dump / pg_restore / sqlite failed; the message says how."""


def backend_of(url: str) -> str:
    return "postgres" if make_url(url).get_backend_name() == "postgresql" else "sqlite"


def dump(url: str, target: Path) -> None:
    if backend_of(url) == "postgres":
        _run(["pg_dump", "--format=custom", "--compress=0", "--no-owner", "--no-privileges",
              f"--file={target}", _libpq(url)], url)
    else:
        _sqlite_copy(_sqlite_path(url), str(target))


def restore(dump_file: Path, url: str) -> None:
    """Load a dump into the (empty) database at `url`."""
    _refuse_non_empty(url)
    if backend_of(url) == "postgres":
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={_libpq(url)}",
              str(dump_file)], url)
    else:
        _sqlite_copy(str(dump_file), _sqlite_path(url))


def _sqlite_copy(source_path: str, target_path: str) -> None:
    """SQLite's online backup: a consistent copy even while the app writes."""
    source, target = sqlite3.connect(source_path), sqlite3.connect(target_path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _refuse_non_empty(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        tables = sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise DumpFailed(f"the target database is not empty ({len(tables)} tables); restore only into an empty one")


def _libpq(url: str) -> str:
    """The SQLAlchemy URL as libpq understands it (no +driver, no password: that goes in PGPASSWORD)."""
    return make_url(url).set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _sqlite_path(url: str) -> str:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise DumpFailed("an in-memory SQLite database cannot be backed up")
    return database


def _run(command: list[str], url: str) -> None:
    env = dict(os.environ)
    if make_url(url).password:
        env["PGPASSWORD"] = make_url(url).password
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=6 * 3600, env=env)
    except FileNotFoundError:
        raise DumpFailed(f"{command[0]} is not installed (apt-get install postgresql-client)") from None
    if result.returncode != 0:
        raise DumpFailed(f"{command[0]} failed: {result.stderr.strip()[-500:]}")
