"""Creating and dropping throwaway Postgres databases for a test run."""
from __future__ import annotations

import contextlib
import os

import psycopg2
from psycopg2 import sql
from sqlalchemy.engine import make_url

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def admin_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL") or DEFAULT_ADMIN_URL


def server_problem(url: str) -> str | None:
    """None when the server answers, else why not."""
    try:
        psycopg2.connect(_dsn(url), connect_timeout=3).close()
        return None
    except psycopg2.Error as err:
        return f"no Postgres at {make_url(url).render_as_string(hide_password=True)}: {' '.join(str(err).split())}"


@contextlib.contextmanager
def fresh_database(name: str):
    """Yield the SQLAlchemy URL of a new, empty database; drop it afterwards."""
    _admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    # A throwaway database needs no durability across a server crash; commits stop waiting for the disk.
    _admin(sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(sql.Identifier(name)))
    try:
        yield make_url(admin_url()).set(drivername="postgresql+psycopg2", database=name).render_as_string(
            hide_password=False)
    finally:
        _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _admin(statement) -> None:
    conn = psycopg2.connect(_dsn(admin_url()))
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement)
    finally:
        conn.close()


def _dsn(url: str) -> str:
    u = make_url(url)
    parts = {"host": u.host, "port": u.port, "user": u.username, "password": u.password, "dbname": u.database}
    return " ".join(f"{k}={v}" for k, v in parts.items() if v is not None)
