"""Set-based statements of the importers: a whole batch in one INSERT or UPDATE, on Postgres and SQLite.

On Postgres a batch travels as one array literal per column (`INSERT ... SELECT ... FROM unnest(...)`): one
round trip and one small statement to plan, whatever the batch size. Values the whole batch shares (the
tenant, a kind, a time) are bound once, not repeated 10,000 times. SQLite takes a multi-row INSERT.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.services.codes import ALPHABET

_NULL = type(None)


def on_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def insert_for(table):
    """The dialect's INSERT (both have ON CONFLICT DO NOTHING and RETURNING)."""
    return (postgresql if on_postgres() else sqlite).insert(table)


def insert_rows(table: sa.Table, rows: list[dict], returning: tuple = ()) -> list:
    """INSERT ... ON CONFLICT DO NOTHING [RETURNING] of `rows` (dicts with the same keys), in one statement."""
    if not rows:
        return []
    return insert_columns(table, {n: [r[n] for r in rows] for n in rows[0]}, returning=returning)


def insert_columns(table: sa.Table, columns: dict[str, list], *, shared: dict | None = None,
                   returning: tuple = ()) -> list:
    """INSERT ... ON CONFLICT DO NOTHING [RETURNING] of rows given column by column (lists of one length);
    `shared` holds the columns whose value is the same in every row."""
    shared = shared or {}
    count = len(next(iter(columns.values())))
    if not count:
        return []
    if not on_postgres():
        rows = [dict(shared, **dict(zip(columns, values))) for values in zip(*columns.values())]
        statement = insert_for(table).on_conflict_do_nothing()
        if returning:
            return db.session.execute(statement.returning(*(table.c[n] for n in returning)), rows).all()
        db.session.execute(statement, rows)
        return []
    names = list(shared) + list(columns)
    values = [f"CAST(:s_{n} AS {_pg_type(table, n)})" for n in shared] + [f"v.{_quoted(n)}" for n in columns]
    sql = (f"INSERT INTO {table.name} ({', '.join(_quoted(n) for n in names)}) SELECT {', '.join(values)} "
           f"FROM unnest({_array_params(table, list(columns))}) AS v({', '.join(_quoted(n) for n in columns)}) "
           "ON CONFLICT DO NOTHING")
    if returning:
        sql += " RETURNING " + ", ".join(_quoted(n) for n in returning)
    params = {f"a_{n}": pg_array(v) for n, v in columns.items()} | {f"s_{n}": v for n, v in shared.items()}
    result = db.session.execute(sa.text(sql), params)
    return result.all() if returning else []


def pg_array(values: Iterable) -> str:
    """The Postgres array literal of `values` (`{1,NULL}`, `{"a","b\\"c"}`), bound as one string.

    The server reads it with the array type's input function. A Python list would reach it as psycopg2's
    `ARRAY[...]`, one SQL constant per element to adapt, parse and fold: for a 10,000-row batch of members
    about four times the cost (1.5 s against 0.37 s with building the literal, on the loaded 2-core VM).
    """
    values = list(values)
    types = set(map(type, values))
    kinds = types - {_NULL}
    if kinds == {int}:
        items = map(_number, values) if _NULL in types else map(str, values)
    elif kinds == {bool}:
        items = ("NULL" if v is None else "t" if v else "f" for v in values)
    elif kinds == {str} and not _needs_escape(values):
        items = ("NULL" if v is None else '"' + v + '"' for v in values)
    else:
        items = map(_quoted_element, values)
    return "{" + ",".join(items) + "}"


def _needs_escape(texts: list[str | None]) -> bool:
    joined = "".join(t for t in texts if t is not None)
    return '"' in joined or "\\" in joined


def _number(value) -> str:
    return "NULL" if value is None else str(value)


def _quoted_element(value) -> str:
    if value is None:
        return "NULL"
    text = value.isoformat() if isinstance(value, (datetime, date)) else str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _quoted(name: str) -> str:
    return f'"{name}"'


def _pg_type(table: sa.Table, name: str) -> str:
    return table.c[name].type.compile(postgresql.dialect())


def _array_params(table: sa.Table, names: list[str]) -> str:
    """`CAST(:a_x AS <type of x>[]), ...`: each bound literal becomes a typed Postgres array."""
    return ", ".join(f"CAST(:a_{n} AS {_pg_type(table, n)}[])" for n in names)


#: bytes.translate table of referral_codes: byte b -> ALPHABET[b % len(ALPHABET)].
_CODE_CHARS = bytes(ord(ALPHABET[b % len(ALPHABET)]) for b in range(256))
#: Bytes at or above this are dropped, so that every character is equally likely.
_CODE_LIMIT = 256 - 256 % len(ALPHABET)
_CODE_DROPPED = bytes(range(_CODE_LIMIT, 256))


def referral_codes(count: int, length: int = 8) -> list[str]:
    """`count` random codes of codes.ALPHABET in one draw (codes.referral_code draws one character at a time)."""
    text = b""
    while len(text) < count * length:
        text += secrets.token_bytes(count * length * 2).translate(_CODE_CHARS, _CODE_DROPPED)
    text = text.decode("ascii")
    return [text[i * length:(i + 1) * length] for i in range(count)]
