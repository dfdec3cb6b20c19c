"""Per-bot sessions of a member: found or created once, and written by sibling services with a version check."""
from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models import Bot, BotSession, Member, utcnow
from app.services.errors import DomainError, NotFound, ValidationFailed
from app.services.locking import lock_row
from app.services.rowwrites import attach_row, table_columns

MAX_JSON_CHARS = 64_000


class VersionMismatch(DomainError):
    """The session changed since the caller read it (If-Match)."""

    code = "version_mismatch"


def find_session(member: Member, bot: Bot) -> BotSession | None:
    return db.session.scalar(sa.select(BotSession).where(BotSession.member_id == member.id,
                                                         BotSession.bot_id == bot.id))


def session_of(member: Member, bot: Bot) -> BotSession:
    """This bot's session of the member, created on first contact (two creators at once make one row)."""
    if bot.tenant_id != member.tenant_id:
        raise NotFound("No such bot.")
    return find_session(member, bot) or insert_session(member, bot)


def insert_session(member: Member, bot: Bot) -> BotSession:
    """A new session of the member with this bot, for a caller who just saw none: one INSERT ... RETURNING;
    when another transaction created it meanwhile (the INSERT does nothing), that one, read."""
    now = utcnow()
    row = db.session.connection().execute(_INSERT_SESSION, {
        "tenant_id": member.tenant_id, "member_id": member.id, "bot_id": bot.id, "empty": {},
        "created_at": now, "updated_at": now}).first()
    return attach_row(BotSession, row) if row is not None else find_session(member, bot)


def _insert_session() -> sa.TextClause:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING the row, as text that SQLite and Postgres both read.

    SQLAlchemy never caches its dialect INSERTs (the ones with on_conflict_do_nothing), so building and
    compiling that one took more CPU on every first update of a member in a bot than the database took to
    run it; this text statement is compiled once and cached like any other. Its row (every column, in table
    order) becomes the session object through rowwrites.attach_row, without the ORM's loading.
    """
    columns = table_columns(BotSession)
    text = sa.text(
        "INSERT INTO bot_sessions (tenant_id, member_id, bot_id, session_data, stats_data, daily_requests, "
        "version, created_at, updated_at) VALUES (:tenant_id, :member_id, :bot_id, :empty, :empty, 0, 0, "
        ":created_at, :updated_at) ON CONFLICT (member_id, bot_id) DO NOTHING RETURNING "
        + ", ".join(c.name for c in columns)
    ).bindparams(sa.bindparam("empty", type_=BotSession.__table__.c.session_data.type),
                 sa.bindparam("created_at", type_=BotSession.__table__.c.created_at.type),
                 sa.bindparam("updated_at", type_=BotSession.__table__.c.updated_at.type))
    return text.columns(*columns)


_INSERT_SESSION = _insert_session()


def put_session(session: BotSession, *, session_data: dict[str, Any] | None = None,
                stats_data: dict[str, Any] | None = None, expected_version: int | None = None) -> BotSession:
    """Replace the session's data and/or stats; VersionMismatch if `expected_version` is no longer current."""
    for value in (session_data, stats_data):
        if value is not None and len(_json_text(value)) > MAX_JSON_CHARS:
            raise ValidationFailed(f"Session data may hold at most {MAX_JSON_CHARS:,} characters of JSON.")
    locked = lock_row(BotSession, session.id, tenant_id=session.tenant_id)
    if expected_version is not None and locked.version != expected_version:
        raise VersionMismatch(f"The session is at version {locked.version}, not {expected_version}; "
                              "read it again and retry.", version=locked.version)
    if session_data is not None:
        locked.session_data = session_data
    if stats_data is not None:
        locked.stats_data = stats_data
    locked.version += 1
    db.session.flush()
    return locked


def _json_text(value) -> str:
    return json.dumps(value, separators=(",", ":"))
