"""Per-update context: the bot row, its tenant, the member and this bot's session, the language."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from telebot import TeleBot

from app.extensions import db
from app.models import Bot, BotSession, Member, Panel, Tenant, utcnow
from app.services import settings
from app.services.members import insert_or_find_member
from app.services.parsing import clean_optional_name
from app.services.sessions import insert_session
from app.services.xp import Visit, record_visit
from bots import i18n
from bots.middleware import current_envelope

#: last_activity_at is written when it is older than this, not on every update (daily stats count days).
ACTIVITY_RESOLUTION = timedelta(minutes=5)
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

#: The statements every update runs, built once with bound parameters: building a SELECT costs more CPU than
#: the database takes to answer these (SQLAlchemy then also reuses its cache key instead of computing it).
BOT_AND_TENANT = sa.select(Bot, Tenant).join(Tenant, Tenant.id == Bot.tenant_id).where(Bot.id == sa.bindparam("bot_id"))
MEMBER_AND_SESSION = (
    sa.select(Member, BotSession)
    .outerjoin(BotSession, sa.and_(BotSession.member_id == Member.id, BotSession.bot_id == sa.bindparam("bot_id")))
    .where(Member.tenant_id == sa.bindparam("tenant_id"), Member.telegram_id == sa.bindparam("telegram_id")))
#: Whether the tenant sells VPN services (the main menu then offers "My services"), asked with the context.
_SELLS_VPN = sa.exists().where(Panel.tenant_id == Bot.tenant_id).label("sells_vpn")
#: A polling update's whole context in one statement: the bot, its tenant, whether it sells VPN services,
#: the member (None when new to the tenant) and this bot's session of them (None when new to the bot).
EVERYTHING = (
    sa.select(Bot, Tenant, _SELLS_VPN, Member, BotSession)
    .join(Tenant, Tenant.id == Bot.tenant_id)
    .outerjoin(Member, sa.and_(Member.tenant_id == Bot.tenant_id, Member.telegram_id == sa.bindparam("telegram_id")))
    .outerjoin(BotSession, sa.and_(BotSession.member_id == Member.id, BotSession.bot_id == Bot.id))
    .where(Bot.id == sa.bindparam("bot_id")))


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
    row = db.session.execute(BOT_AND_TENANT, {"bot_id": bot_id}).first()
    return (row[0], row[1]) if row is not None else None


def load_context(telebot: TeleBot, user, chat_id: int, thread_id: int | None = None) -> Context:
    """The context of an update from Telegram user `user` in chat `chat_id`; creates the member if new.

    A returning member costs one statement (the bot, its tenant, the member and this bot's session, read
    together), or two when a webhook request already read the bot; a member new to this bot one more (the
    session's INSERT ... RETURNING).
    """
    member, session, sells_vpn = None, None, None
    envelope = current_envelope()
    if envelope is not None and envelope.bot_and_tenant is not None \
            and envelope.bot_and_tenant[0].id == telebot.botfleet_bot_id:
        bot, tenant = envelope.bot_and_tenant
        member, session = _member_and_session(tenant, bot, user.id)
    else:
        row = db.session.execute(EVERYTHING, {"bot_id": telebot.botfleet_bot_id, "telegram_id": user.id}).first()
        if row is None:
            raise LookupError(f"bot {telebot.botfleet_bot_id} is gone")
        bot, tenant, sells_vpn, member, session = row
    is_new = False
    if member is None:
        member, is_new = insert_or_find_member(tenant, user.id, language_code=_first_language(user, tenant),
                                               last_activity_at=utcnow(), **_profile(user))
    _refresh_profile(member, user)
    visit = None if member.is_banned else record_visit(member, bot=bot)
    session = session or (_new_session(member, bot) if is_new else insert_session(member, bot))
    if session.blocked_at is not None:  # they write to the bot again, so it may write to them
        session.blocked_at = None
    return Context(telebot, bot, tenant, member, session, chat_id, is_new_member=is_new, visit=visit,
                   thread_id=thread_id, sells_vpn=sells_vpn)


def _member_and_session(tenant: Tenant, bot: Bot, telegram_id: int) -> tuple[Member | None, BotSession | None]:
    row = db.session.execute(MEMBER_AND_SESSION, {"tenant_id": tenant.id, "bot_id": bot.id,
                                                  "telegram_id": telegram_id}).first()
    return (row[0], row[1]) if row is not None else (None, None)


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
    for name, value in _profile(user).items():
        if getattr(member, name) != value:
            setattr(member, name, value)
    now = utcnow()
    if member.last_activity_at is None or now - member.last_activity_at >= ACTIVITY_RESOLUTION:
        member.last_activity_at = now
