"""Members: a tenant's Telegram users."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Bot, BotSession, Member, Tenant
from app.models.types import utcnow
from app.services import events
from app.services.codes import referral_code
from app.services.errors import ValidationFailed
from app.services.locking import remember_locked
from app.services.rowwrites import attach_row, table_columns

_CODE_ATTEMPTS = 5


#: Built once: every API request about a member runs it.
_MEMBER = sa.select(Member).where(Member.tenant_id == sa.bindparam("tenant_id"),
                                  Member.telegram_id == sa.bindparam("telegram_id"))


def find_member(tenant: Tenant, telegram_id: int) -> Member | None:
    return db.session.scalar(_MEMBER, {"tenant_id": tenant.id, "telegram_id": telegram_id})


def create_member(tenant: Tenant, telegram_id: int, **fields) -> Member:
    """A new member with a fresh referral code; the balance starts at zero (use the ledger)."""
    fields.pop("balance", None)
    member = Member(tenant_id=tenant.id, telegram_id=telegram_id, referral_code=_free_referral_code(tenant),
                    **fields)
    db.session.add(member)
    db.session.flush()
    events.member_created(member)
    return member


def get_or_create_member(tenant: Tenant, telegram_id: int, **fields) -> tuple[Member, bool]:
    """The tenant's member with this Telegram id, created if new; (member, created).

    Two bots of a tenant may see a new user at the same instant: the insert yields to the other
    transaction's row (ON CONFLICT DO NOTHING) instead of failing on the unique key.
    """
    member = find_member(tenant, telegram_id)
    if member is not None:
        return member, False
    return insert_or_find_member(tenant, telegram_id, **fields)


def insert_or_find_member(tenant: Tenant, telegram_id: int, **fields) -> tuple[Member, bool]:
    """Insert the member (one INSERT ... RETURNING, no look-up first); if another transaction inserted the
    same Telegram user first, that member. A referral code taken by then (rare) is drawn again."""
    fields.pop("balance", None)
    for _ in range(_CODE_ATTEMPTS):
        row = db.session.connection().execute(*_insert(tenant, telegram_id, fields)).one_or_none()
        if row is not None:
            member = attach_row(Member, row)
            remember_locked(member)  # our uncommitted row: nobody else can lock it
            events.member_created(member)
            return member, True
        existing = find_member(tenant, telegram_id)
        if existing is not None:
            return existing, False
    raise RuntimeError("no free referral code after several attempts")


def _insert(tenant: Tenant, telegram_id: int, fields: dict):
    unknown = fields.keys() - _INSERT_COLUMNS.keys()
    if unknown:
        raise TypeError(f"not a member column: {', '.join(sorted(unknown))}")
    values = {name: _column_default(column) for name, column in _INSERT_COLUMNS.items()}
    values.update(fields, tenant_id=tenant.id, telegram_id=telegram_id, referral_code=referral_code())
    return _INSERT_MEMBER, values


def _column_default(column: sa.Column):
    """What the ORM would insert for a column left out: its Python default (a value, or a callable's result)."""
    default = column.default
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg


def _insert_member() -> tuple[sa.TextClause, dict[str, sa.Column]]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING the row, every column but the id bound, as text that SQLite
    and Postgres both read: SQLAlchemy never caches its dialect INSERTs, so building and compiling one took
    more CPU than a new member's whole insert otherwise (as for sessions.insert_session). Column defaults are
    filled in by `_insert` as the ORM would (a column without one is NULL); no column has a server default.
    Its row (every column, in table order) becomes the member through rowwrites.attach_row."""
    table = Member.__table__
    columns = {c.name: c for c in table.c if not c.primary_key}
    assert not any(c.server_default is not None for c in columns.values()), "bind only columns without one"
    text = sa.text(
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join(':' + n for n in columns)}) "
        "ON CONFLICT DO NOTHING RETURNING " + ", ".join(c.name for c in table_columns(Member))
    ).bindparams(*(sa.bindparam(name, type_=column.type) for name, column in columns.items()))
    return text.columns(*table_columns(Member)), columns


_INSERT_MEMBER, _INSERT_COLUMNS = _insert_member()


def _free_referral_code(tenant: Tenant) -> str:
    while True:
        code = referral_code()
        taken = db.session.scalar(
            sa.select(Member.id).where(Member.tenant_id == tenant.id, Member.referral_code == code)
        )
        if not taken:
            return code


MAX_VIP_LEVEL = 100


def update_profile(member: Member, *, language_code: str | None = None, vip_level: int | None = None) -> Member:
    """Change what a sibling service may set: the bot language and the VIP level (None: unchanged)."""
    if language_code is not None:
        if language_code not in ("fa", "en", "ru"):
            raise ValidationFailed("The language is one of fa, en, ru.")
        member.language_code = language_code
    if vip_level is not None:
        if type(vip_level) is not int or not 0 <= vip_level <= MAX_VIP_LEVEL:
            raise ValidationFailed(f"The VIP level is a whole number from 0 to {MAX_VIP_LEVEL}.")
        member.vip_level = vip_level
    db.session.flush()
    return member


def reachable(session=BotSession):
    """The condition on BotSession (or an alias of it) under which its bot can write to the member (they have
    not blocked it).

    Broadcasts and anything else that writes to many members filter their sessions with it.
    """
    return session.blocked_at.is_(None)


def mark_blocked(bot: Bot, telegram_id: int) -> bool:
    """The member blocked `bot` (Telegram's 403, or my_chat_member kicked): flag their session (flush only).

    Keeps the first moment; True when a session changed.
    """
    return _set_blocked(bot, telegram_id, utcnow(), BotSession.blocked_at.is_(None))


def mark_reachable(bot: Bot, telegram_id: int) -> bool:
    """The member wrote to `bot` again, or unblocked it: clear the flag (flush only); True when it changed."""
    return _set_blocked(bot, telegram_id, None, BotSession.blocked_at.is_not(None))


def _set_blocked(bot: Bot, telegram_id: int, value, unless) -> bool:
    member_ids = sa.select(Member.id).where(Member.tenant_id == bot.tenant_id, Member.telegram_id == telegram_id)
    result = db.session.execute(
        sa.update(BotSession).where(BotSession.bot_id == bot.id, BotSession.member_id.in_(member_ids), unless)
        .values(blocked_at=value), execution_options={"synchronize_session": False})
    return bool(result.rowcount)
