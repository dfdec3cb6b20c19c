"""Per-update context: the bot row, its tenant, the member and this bot's session, the language."""
from __future__ import annotations

from dataclasses import dataclass, field

from telebot import TeleBot

from app.extensions import db
from app.models import Bot, BotSession, Member, Tenant, utcnow
from app.services import settings
from app.services.members import get_or_create_member
from app.services.parsing import clean_optional_name
from app.services.sessions import session_of
from app.services.xp import Visit, record_visit
from bots import i18n

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


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

        replies.call(self.telebot, "send_message", chat_id=self.chat_id, text=clip(text), reply_markup=markup,
                     parse_mode=parse_mode)

    def set_state(self, state: str | None, **data) -> None:
        """Remember what the next text from this member answers (None forgets it)."""
        self.session.state = state
        self.session.session_data = dict(data) if state else {}


def clip(text: str, limit: int = TEXT_LIMIT) -> str:
    """`text` cut to Telegram's limit, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def language_of(member: Member | None, tenant: Tenant) -> str:
    """The member's chosen language, else the tenant's default, else Persian."""
    chosen = i18n.normalize_language(member.language_code if member else None)
    return chosen or i18n.normalize_language(settings.get(tenant, "default_language")) or i18n.DEFAULT_LANGUAGE


def current_bot(telebot: TeleBot) -> Bot:
    bot = db.session.get(Bot, telebot.botfleet_bot_id)
    if bot is None:
        raise LookupError(f"bot {telebot.botfleet_bot_id} is gone")
    return bot


def load_context(telebot: TeleBot, user, chat_id: int) -> Context:
    """The context of an update from Telegram user `user` in chat `chat_id`; creates the member if new."""
    bot = current_bot(telebot)
    tenant = db.session.get(Tenant, bot.tenant_id)
    member, is_new = get_or_create_member(tenant, user.id, language_code=_first_language(user, tenant))
    _refresh_profile(member, user)
    visit = None if member.is_banned else record_visit(member, bot=bot)
    return Context(telebot, bot, tenant, member, session_of(member, bot), chat_id, is_new_member=is_new,
                   visit=visit)


def _first_language(user, tenant: Tenant) -> str:
    return i18n.normalize_language(getattr(user, "language_code", None)) or language_of(None, tenant)


def _refresh_profile(member: Member, user) -> None:
    # Names come from Telegram as typed: control characters (NUL fails the flush) and invisible-only names go.
    member.username = clean_optional_name(user.username, max_length=64)
    member.first_name = clean_optional_name(user.first_name, max_length=128)
    member.last_name = clean_optional_name(user.last_name, max_length=128)
    member.last_activity_at = utcnow()
