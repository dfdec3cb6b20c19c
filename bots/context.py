"""Per-update context: the bot row, its tenant, the member and this bot's session, the language."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from telebot import TeleBot

from app.extensions import db
from app.models import Bot, BotSession, Member, Panel, ProcessedUpdate, Tenant, utcnow
from app.models.types import fits_bigint
from app.prepared import first_row, prepared
from app.services import settings
from app.services.members import insert_or_find_member
from app.services.parsing import clean_optional_name
from app.services.rowwrites import attach_row, table_columns
from app.services.sessions import insert_session
from app.services.xp import Visit, record_visit
from bots import i18n
from bots.middleware import current_envelope

#: last_activity_at (when the member was last seen; no query filters on it) is written when it is older than this,
#: not on every update.
ACTIVITY_RESOLUTION = timedelta(minutes=5)
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

#: The statements every update runs, built once with bound parameters: building a SELECT costs more CPU than
#: the database takes to answer these (SQLAlchemy then also reuses its cache key instead of computing it).
#: They are Core statements over every column of each table, run on the session's connection: the rows become
#: ORM objects through rowwrites.attach_row, which skips the ORM loading's per-query and per-column machinery
#: (that machinery was about half of a polling update's Python).
_BOTS, _TENANTS, _MEMBERS, _SESSIONS, _PANELS = (
    m.__table__ for m in (Bot, Tenant, Member, BotSession, Panel))
_BOT_COLUMNS, _TENANT_COLUMNS, _MEMBER_COLUMNS, _SESSION_COLUMNS = (
    table_columns(m) for m in (Bot, Tenant, Member, BotSession))
BOT_AND_TENANT = (sa.select(*_BOT_COLUMNS, *_TENANT_COLUMNS)
                  .join_from(_BOTS, _TENANTS, _TENANTS.c.id == _BOTS.c.tenant_id)
                  .where(_BOTS.c.id == sa.bindparam("bot_id")))
MEMBER_AND_SESSION = (
    sa.select(*_MEMBER_COLUMNS, *_SESSION_COLUMNS)
    .outerjoin_from(_MEMBERS, _SESSIONS, sa.and_(_SESSIONS.c.member_id == _MEMBERS.c.id,
                                                 _SESSIONS.c.bot_id == sa.bindparam("bot_id")))
    .where(_MEMBERS.c.tenant_id == sa.bindparam("tenant_id"), _MEMBERS.c.telegram_id == sa.bindparam("telegram_id")))
#: Whether the tenant sells VPN services (the main menu then offers "My services"), asked with the context.
_SELLS_VPN = sa.exists().where(_PANELS.c.tenant_id == _BOTS.c.tenant_id).label("sells_vpn")
#: A polling update's whole context in one statement: the bot, its tenant, whether it sells VPN services,
#: the member (NULLs when new to the tenant) and this bot's session of them (NULLs when new to the bot).
EVERYTHING = (
    sa.select(*_BOT_COLUMNS, *_TENANT_COLUMNS, _SELLS_VPN, *_MEMBER_COLUMNS, *_SESSION_COLUMNS)
    .join_from(_BOTS, _TENANTS, _TENANTS.c.id == _BOTS.c.tenant_id)
    .outerjoin(_MEMBERS, sa.and_(_MEMBERS.c.tenant_id == _BOTS.c.tenant_id,
                                 _MEMBERS.c.telegram_id == sa.bindparam("telegram_id")))
    .outerjoin(_SESSIONS, sa.and_(_SESSIONS.c.member_id == _MEMBERS.c.id, _SESSIONS.c.bot_id == _BOTS.c.id))
    .where(_BOTS.c.id == sa.bindparam("bot_id")))
_B, _T, _M, _S = (len(c) for c in (_BOT_COLUMNS, _TENANT_COLUMNS, _MEMBER_COLUMNS, _SESSION_COLUMNS))
_MARKERS = ProcessedUpdate.__table__
#: Postgres, a webhook request: EVERYTHING, and the update's marker (the middleware's dedupe) written by the same
#: statement (a data-modifying CTE) when the bot is active and the request's secret is the bot's. The secrets are
#: compared as SHA-256 digests, so the comparison's time tells nothing of the secret; the route's constant-time
#: check of the row it reads stays the authority (a refused request rolls back). `recorded` false (a repeat, a
#: refused secret) leaves the marker to the middleware's INSERT, which tells a repeat as before. Written as text:
#: the dialect's insert() with ON CONFLICT is not cacheable in SQLAlchemy 2.0 (it compiled on every request).
_MARKER = (
    sa.text("INSERT INTO processed_updates (bot_id, update_id, processed_at)"
            " SELECT bots.id, :update_id, :processed_at FROM bots WHERE bots.id = :bot_id AND bots.is_active"
            " AND sha256(convert_to(bots.webhook_secret, 'UTF8')) = :secret_digest"
            " ON CONFLICT DO NOTHING RETURNING processed_updates.update_id")
    .bindparams(sa.bindparam("update_id", type_=_MARKERS.c.update_id.type),
                sa.bindparam("processed_at", type_=_MARKERS.c.processed_at.type),
                sa.bindparam("bot_id", type_=_BOTS.c.id.type), sa.bindparam("secret_digest", type_=sa.LargeBinary))
    .columns(_MARKERS.c.update_id).cte("marker"))
EVERYTHING_AND_MARKER = prepared(EVERYTHING.add_columns(sa.select(_MARKER.c.update_id).exists().label("recorded")),
                                 "everything_and_marker")
#: Both are Postgres prepared statements, planned once per connection, and run on the DBAPI cursor without the Core
#: execution around them (app/prepared.py: `first_row`).
EVERYTHING = prepared(EVERYTHING, "everything")
_RECORDED = _B + _T + 1 + _M + _S  # EVERYTHING_AND_MARKER's last column


@dataclass
class Context:
    """Everything a handler needs about one update, loaded in the update's transaction."""

    telebot: TeleBot
    bot: Bot
    tenant: Tenant
    member: Member
    session: BotSession
    chat_id: int
    is_new_member: bool = False
    #: The member's visit today (daily XP on the first update of a tenant-local day); None if banned.
    visit: Visit | None = None
    #: The forum topic the update came from: replies carry it as message_thread_id.
    thread_id: int | None = None
    #: Whether the tenant has a VPN panel, when the context statement read it (None: ask when needed).
    sells_vpn: bool | None = None
    lang: str = field(init=False)

    def __post_init__(self):
        self.lang = language_of(self.member, self.tenant)

    def t(self, key: str, **params) -> str:
        return i18n.t(self.lang, key, **params)

    def say(self, key: str, markup=None, **params):
        """Send the text of `key` to the current chat."""
        return self.send(self.t(key, **params), markup)

    def send(self, text: str, markup=None, parse_mode=None) -> None:
        """Send `text` to the current chat once the update commits (bots/replies.py)."""
        from bots import replies  # replies → outbound → notify → this module

        topic = {"message_thread_id": self.thread_id} if self.thread_id else {}
        replies.call(self.telebot, "send_message", chat_id=self.chat_id, text=clip(text), reply_markup=markup,
                     parse_mode=parse_mode, **topic)

    def set_state(self, state: str | None, **data) -> None:
        """Remember what the next text from this member answers (None forgets it); no change writes nothing."""
        data = dict(data) if state else {}
        if self.session.state != state or self.session.session_data != data:
            self.session.state, self.session.session_data = state, data


def clip(text: str, limit: int = TEXT_LIMIT) -> str:
    """`text` cut to Telegram's limit, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def language_of(member: Member | None, tenant: Tenant) -> str:
    """The member's chosen language, else the tenant's default, else Persian."""
    chosen = i18n.normalize_language(member.language_code if member else None)
    return chosen or i18n.normalize_language(settings.get(tenant, "default_language")) or i18n.DEFAULT_LANGUAGE


def current_bot(telebot: TeleBot) -> Bot:
    return bot_and_tenant(telebot)[0]


def bot_and_tenant(telebot: TeleBot) -> tuple[Bot, Tenant]:
    """The bot row and its tenant, in one statement (none when the webhook request already read them)."""
    envelope = current_envelope()
    if envelope is not None and envelope.bot_and_tenant is not None \
            and envelope.bot_and_tenant[0].id == telebot.botfleet_bot_id:
        return envelope.bot_and_tenant
    loaded = load_bot(telebot.botfleet_bot_id)
    if loaded is None:
        raise LookupError(f"bot {telebot.botfleet_bot_id} is gone")
    return loaded


def load_bot(bot_id: int) -> tuple[Bot, Tenant] | None:
    """The bot row with its tenant, in one statement; None when there is no such bot."""
    row = db.session.connection().execute(BOT_AND_TENANT, {"bot_id": bot_id}).first()
    return (attach_row(Bot, row[:_B]), attach_row(Tenant, row[_B:])) if row is not None else None


@dataclass(frozen=True)
class Sender:
    """The member an update comes from, read with its bot before the handlers run (a webhook request reads it
    with the bot it checks the secret of): `load_context` takes these rows instead of reading them again."""

    telegram_id: int
    #: None when the Telegram user is new to the tenant; `session` None when new to this bot.
    member: Member | None
    session: BotSession | None
    sells_vpn: bool


def load_bot_and_sender(bot_id: int, telegram_id: int, marker: tuple[int, str | None] | None = None
                        ) -> tuple[tuple[Bot, Tenant], Sender, bool] | None:
    """The bot with its tenant, and the member `telegram_id` of that tenant with this bot's session of them, in one
    statement (the polling update's EVERYTHING); None when there is no such bot. On Postgres, given `marker`
    (update_id, the request's secret), the statement also records the update's marker: the last item says
    whether it did (EVERYTHING_AND_MARKER)."""
    params = {"bot_id": bot_id, "telegram_id": telegram_id}
    connection = db.session.connection()
    recording = marker is not None and fits_bigint(marker[0]) and connection.dialect.name == "postgresql"
    if recording:
        digest = hashlib.sha256(marker[1].encode()).digest() if marker[1] is not None else None
        params.update(update_id=marker[0], secret_digest=digest, processed_at=utcnow())
    row = first_row(connection, EVERYTHING_AND_MARKER if recording else EVERYTHING, params)
    if row is None:
        return None
    bot, tenant, sells_vpn, member, session = _everything(row)
    return (bot, tenant), Sender(telegram_id, member, session, sells_vpn), recording and row[_RECORDED]


def _everything(row) -> tuple:
    """(bot, tenant, sells_vpn, member or None, session or None) of an EVERYTHING row."""
    at, session = _B + _T + 1, db.session()
    return (attach_row(Bot, row[:_B], session), attach_row(Tenant, row[_B:at - 1], session), row[at - 1],
            attach_row(Member, row[at:at + _M], session), attach_row(BotSession, row[at + _M:at + _M + _S], session))


def load_context(telebot: TeleBot, user, chat_id: int, thread_id: int | None = None) -> Context:
    """The context of an update from Telegram user `user` in chat `chat_id`; creates the member if new.

    A returning member costs one statement (the bot, its tenant, the member and this bot's session, read
    together), none when a webhook request already read them with the bot (`Sender`), one when it read only
    the bot; a member new to this bot one more (the session's INSERT ... RETURNING).
    """
    sells_vpn = None
    envelope = current_envelope()
    if envelope is not None and envelope.bot_and_tenant is not None \
            and envelope.bot_and_tenant[0].id == telebot.botfleet_bot_id:
        bot, tenant = envelope.bot_and_tenant
        sender, envelope.sender = envelope.sender, None  # read once: a second load reads what this one wrote
        if sender is not None and sender.telegram_id == user.id:
            member, session, sells_vpn = sender.member, sender.session, sender.sells_vpn
        else:
            member, session = _member_and_session(tenant, bot, user.id)
    else:
        row = first_row(db.session.connection(), EVERYTHING,
                             {"bot_id": telebot.botfleet_bot_id, "telegram_id": user.id})
        if row is None:
            raise LookupError(f"bot {telebot.botfleet_bot_id} is gone")
        bot, tenant, sells_vpn, member, session = _everything(row)
    is_new = False
    if member is None:
        member, is_new = insert_or_find_member(tenant, user.id, language_code=_first_language(user, tenant),
                                               last_activity_at=utcnow(), **_profile(user))
    if "tenant" not in member.__dict__:  # the visit reads member.tenant: the row read above, not a lazy load's lookup
        set_committed_value(member, "tenant", tenant)
    _refresh_profile(member, user)
    visit = None if member.is_banned else record_visit(member, bot=bot)
    session = session or (_new_session(member, bot) if is_new else insert_session(member, bot))
    if session.blocked_at is not None:  # they write to the bot again, so it may write to them
        session.blocked_at = None
    return Context(telebot, bot, tenant, member, session, chat_id, is_new_member=is_new, visit=visit,
                   thread_id=thread_id, sells_vpn=sells_vpn)


def _member_and_session(tenant: Tenant, bot: Bot, telegram_id: int) -> tuple[Member | None, BotSession | None]:
    row = db.session.connection().execute(MEMBER_AND_SESSION, {"tenant_id": tenant.id, "bot_id": bot.id,
                                                               "telegram_id": telegram_id}).first()
    return (attach_row(Member, row[:_M]), attach_row(BotSession, row[_M:])) if row is not None else (None, None)


def _new_session(member: Member, bot: Bot) -> BotSession:
    """The first session of a member inserted by this transaction (nobody else can reference the row yet)."""
    session = BotSession(tenant_id=member.tenant_id, member_id=member.id, bot_id=bot.id, state=None,
                         session_data={}, stats_data={})
    db.session.add(session)
    db.session.flush()
    return session


def _first_language(user, tenant: Tenant) -> str:
    return i18n.normalize_language(getattr(user, "language_code", None)) or language_of(None, tenant)


def _profile(user) -> dict:
    """Names as Telegram sends them, cleaned: control characters (NUL fails the flush) and invisible-only go."""
    return {"username": clean_optional_name(user.username, max_length=64),
            "first_name": clean_optional_name(user.first_name, max_length=128),
            "last_name": clean_optional_name(user.last_name, max_length=128)}


def _refresh_profile(member: Member, user) -> None:
    """Names as Telegram sends them now (an unchanged name writes nothing); activity at most every 5 min."""
    if (user.username, user.first_name, user.last_name) != (member.username, member.first_name, member.last_name):
        # A stored name is a cleaned one, so a name Telegram sends as stored is clean already (most updates).
        for name, value in _profile(user).items():
            if getattr(member, name) != value:
                setattr(member, name, value)
    now = utcnow()
    if member.last_activity_at is None or now - member.last_activity_at >= ACTIVITY_RESOLUTION:
        member.last_activity_at = now
