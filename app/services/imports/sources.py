"""Readers of the member sources an operator moves in from; each yields MemberRow or RowRefused.

- users-table: the shared `users` table of the first Botfleet plan, read from a database URL.
- users-json: the `users_data.json` of an older bot (members, XP, badges, per-bot sessions).
- bedolaga: the users of a Bedolaga-style bot database (its subscriptions, transactions, promo codes
  and referrals are read by app.services.imports.bedolaga).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from app.services.imports import rows
from app.services.imports.rows import MemberRow, RowRefused

#: Rows fetched from a source database at a time (a server-side cursor on Postgres).
FETCH_SIZE = 10_000
#: Bedolaga stores money in hundredths of its currency unit; one unit is imported as one Toman.
BEDOLAGA_UNIT = 100


def source_engine(url: str) -> sa.Engine:
    return sa.create_engine(url, pool_pre_ping=True)


def table_rows(engine: sa.Engine, table: str) -> Iterator[dict[str, Any]]:
    """Every row of `table` as a dict keyed by lower-case column names (VIP_level -> vip_level)."""
    source = sa.Table(table, sa.MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=FETCH_SIZE).execute(sa.select(source))
        keys = [key.lower() for key in result.keys()]
        for row in result:
            yield dict(zip(keys, row))


def count_rows(engine: sa.Engine, table: str) -> int:
    source = sa.Table(table, sa.MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(source))


def from_users_table(records: Iterable[dict[str, Any]]) -> Iterator[MemberRow | RowRefused]:
    for record in records:
        yield _guarded(_users_table_row, record)


def from_users_json(document: Any) -> Iterator[MemberRow | RowRefused]:
    """`{"users": {"<telegram id>": {...}}}`, `{"<telegram id>": {...}}` or a list of objects."""
    for key, record in _json_records(document):
        yield _guarded(_users_json_row, key, record)


def from_bedolaga_users(records: Iterable[dict[str, Any]]) -> Iterator[MemberRow | RowRefused]:
    for record in records:
        yield _guarded(_bedolaga_row, record)


def _guarded(build, *args) -> MemberRow | RowRefused:
    try:
        return build(*args)
    except RowRefused as refused:
        return refused


def _users_table_row(record: dict[str, Any]) -> MemberRow:
    notes: list[str] = []
    row = MemberRow(
        telegram_id=rows.telegram_id(record.get("telegram_id")),
        username=rows.text(record.get("username") or record.get("telegram_user_name"), 64),
        first_name=rows.text(record.get("first_name"), 128),
        last_name=rows.text(record.get("last_name"), 128),
        language_code=rows.language(record.get("language_code")),
        balance=rows.toman(record.get("balance"), notes),
        vip_level=rows.small_int(record.get("vip_level"), high=100),
        is_newcomer=rows.flag(record.get("is_newcomer"), True),
        created_at=rows.moment(record.get("created_at")),
        notes=notes,
    )
    if record.get("is_active") is not None and not rows.flag(record.get("is_active"), True):
        notes.append("inactive in the source (imported all the same)")
    return row


def _json_records(document: Any) -> Iterator[tuple[Any, dict[str, Any]]]:
    if isinstance(document, dict) and isinstance(document.get("users"), (dict, list)):
        document = document["users"]
    if isinstance(document, dict):
        yield from ((key, value) for key, value in document.items() if isinstance(value, dict))
    elif isinstance(document, list):
        yield from ((None, value) for value in document if isinstance(value, dict))
    else:
        raise ValueError("users_data.json must hold an object or a list of users")


def _users_json_row(key, record: dict[str, Any]) -> MemberRow:
    notes: list[str] = []
    badges = record.get("badges") or []
    return MemberRow(
        telegram_id=rows.telegram_id(record.get("telegram_id", record.get("user_id", key))),
        username=rows.text(record.get("username"), 64),
        first_name=rows.text(record.get("first_name"), 128),
        last_name=rows.text(record.get("last_name"), 128),
        language_code=rows.language(record.get("language_code") or record.get("language")),
        balance=rows.toman(record.get("balance"), notes),
        vip_level=rows.small_int(record.get("vip_level"), high=100),
        is_newcomer=rows.flag(record.get("is_newcomer"), True),
        created_at=rows.moment(record.get("created_at") or record.get("joined_at")),
        total_xp=rows.small_int(record.get("xp", record.get("total_xp"))),
        badges=[str(b) for b in badges if isinstance(b, (str, int))][:100],
        sessions=_json_sessions(record.get("bots") or record.get("sessions") or {}),
        referrer_telegram_id=_optional_id(record.get("referred_by") or record.get("referrer_id")),
        notes=notes,
    )


def _json_sessions(value: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        return {}
    sessions = {}
    for bot_key, data in value.items():
        if isinstance(data, dict):
            sessions[str(bot_key)] = {"session_data": _object(data.get("session_data")),
                                      "stats_data": _object(data.get("stats_data") or data.get("stats"))}
    return sessions


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _optional_id(value) -> int | None:
    try:
        return rows.telegram_id(value) if value not in (None, "") else None
    except RowRefused:
        return None


def _bedolaga_row(record: dict[str, Any]) -> MemberRow:
    notes: list[str] = []
    kopeks = record.get("balance_kopeks") or 0
    return MemberRow(
        telegram_id=rows.telegram_id(record.get("telegram_id")),
        username=rows.text(record.get("username"), 64),
        first_name=rows.text(record.get("first_name"), 128),
        last_name=rows.text(record.get("last_name"), 128),
        language_code=rows.language(record.get("language")),
        balance=rows.toman(_units(kopeks), notes),
        is_newcomer=not rows.flag(record.get("has_had_paid_subscription"), False),
        created_at=rows.moment(record.get("created_at")),
        notes=notes,
    )


def _units(kopeks) -> str:
    return str(Decimal(str(kopeks)) / BEDOLAGA_UNIT) if kopeks not in (None, "") else "0"


def load_json(raw: bytes | str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise ValueError(f"not a JSON document: {err}") from None
