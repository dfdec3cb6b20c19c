"""Messages to members from outside a conversation (jobs, the dashboard): through one of the tenant's bots.

Everything here is queued in the caller's transaction and delivered by the outbox after it commits:
member notices (`telegram.notice`), receipt decisions and referral bonuses (`receipt.decision`,
`receipt.referral_bonus`, written by app.services.receipt_announcements), all handled here; admin copies.
`send_to_member` alone sends at once (a test and sandbox helper, outside any transaction).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

import requests
import sqlalchemy as sa
from telebot import TeleBot
from telebot.apihelper import ApiTelegramException

from app.extensions import db
from app.models import Bot, BotSession, Member, OutboxMessage, Receipt
from app.services import outbox
from app.services import receipt_announcements as announcements
from app.services.notify import KIND as NOTICE
from app.worker.delivery import remember
from bots import formatting, outbound, receipt_outbound, receipt_views, replies
from bots.congratulations import referral_bonus_text
from bots.context import clip, language_of
from bots.i18n import t
from bots.keyboards import button, keyboard
from bots.outbound import telebot_for

log = logging.getLogger(__name__)


def bot_for_member(member: Member) -> Bot | None:
    """The active bot the member used last, else any active bot of the tenant."""
    recent = db.session.scalar(
        sa.select(Bot).join(BotSession, BotSession.bot_id == Bot.id)
        .where(BotSession.member_id == member.id, Bot.is_active.is_(True), Bot.tenant_id == member.tenant_id)
        .order_by(BotSession.updated_at.desc()).limit(1))
    return recent or db.session.scalar(
        sa.select(Bot).where(Bot.tenant_id == member.tenant_id, Bot.is_active.is_(True)).order_by(Bot.id).limit(1))


@dataclass(frozen=True)
class Outgoing:
    """A message ready to send: through which bot, to which chat, what."""

    bot: Bot
    chat_id: int
    text: str
    markup: object = None


def compose_for_member(member: Member, key: str, markup=None, **params) -> Outgoing | None:
    """The text of `key` in the member's language, through their bot; None when the tenant has no active bot.

    A param (or `markup`) may be a callable of the language, for values formatted per language.
    """
    bot = bot_for_member(member)
    if bot is None:
        return None
    lang = language_of(member, member.tenant)
    values = {name: value(lang) if callable(value) else value for name, value in params.items()}
    return Outgoing(bot, member.telegram_id, clip(t(lang, key, **values)),
                    markup(lang) if callable(markup) else markup)


def send_to_member(member: Member, key: str, markup=None, **params):
    """Send the text of `key` in the member's language now; the sent Message, or None if it could not go."""
    outgoing = compose_for_member(member, key, markup, **params)
    if outgoing is None:
        return None
    return _send(telebot_for(outgoing.bot), outgoing.chat_id, outgoing.text, outgoing.markup)


#: The notice keys of the jobs and services (app.services.notify) and the catalog keys that say them.
NOTICE_KEYS = {key: f"notice.{key}" for key in (
    "receipt_expired", "subscription_expired", "subscription_reminder_3d", "subscription_reminder_1d",
    "subscription_reminder_today", "balance_credited", "balance_debited", "subscription_granted",
    "subscription_limited")}
#: Params formatted per language on delivery: Toman amounts, dates, counts.
MONEY_PARAMS, DATE_PARAMS, COUNT_PARAMS = ("amount", "balance"), ("ends_at",), ("days",)


def compose_notice(member: Member, text_key: str, **params) -> Outgoing | None:
    """A job's or a service's notice (app.services.notify), formatted in the member's language."""
    timezone = member.tenant.timezone
    values = {name: _localized(name, value, timezone) for name, value in params.items()}
    return compose_for_member(member, NOTICE_KEYS.get(text_key, text_key), markup=_plans_button, **values)


@outbox.handler(NOTICE)
def deliver_notice(message: OutboxMessage) -> None:
    """A member's notice: rendered now, in the member's current language, through their bot."""
    if (message.result or {}).get("message_id"):
        return
    payload = message.payload
    member = db.session.get(Member, payload["member_id"])
    if member is None:
        raise outbox.Permanent("member deleted")
    outgoing = compose_notice(member, payload["text_key"], **payload.get("params", {}))
    if outgoing is None:
        raise outbox.Permanent("the tenant has no active bot")
    call = outbound.bot_call("send_message", chat_id=outgoing.chat_id, text=outgoing.text,
                             reply_markup=outgoing.markup)
    sent = outbound.perform(telebot_for(outgoing.bot), call)
    remember(message, chat_id=outgoing.chat_id, **outbound.sent_id(sent))


def _localized(name: str, value, timezone: str):
    if name in MONEY_PARAMS and isinstance(value, int):
        return lambda lang: formatting.money(lang, value)
    if name in DATE_PARAMS and value is not None:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return lambda lang: formatting.date(lang, moment, timezone)
    if name in COUNT_PARAMS and isinstance(value, int):
        return lambda lang: formatting.digits(lang, value)
    return value


def _plans_button(lang: str):
    return keyboard([button(t(lang, "menu.plans"), "m:plans")])


@outbox.handler(announcements.DECISION)
def deliver_decision(message: OutboxMessage) -> None:
    """The member's message about a receipt decision (app.services.receipt_announcements), rendered now in
    their language, through the receipt's bot if still active, else the bot they used last."""
    if (message.result or {}).get("message_id"):
        return
    payload = message.payload
    receipt = db.session.get(Receipt, payload["receipt_id"])
    if receipt is None:
        raise outbox.Permanent("receipt deleted")
    member = receipt.member
    bot = receipt.bot if receipt.bot is not None and receipt.bot.is_active else bot_for_member(member)
    if bot is None:
        raise outbox.Permanent("the tenant has no active bot")
    text, markup = receipt_views.member_decision(
        receipt, language_of(member, member.tenant), status=payload["status"], balance=payload.get("balance"),
        rewards=_rewards(payload.get("rewards")))
    _deliver(message, bot, member.telegram_id, text, markup)


@outbox.handler(announcements.REFERRAL_BONUS)
def deliver_referral_bonus(message: OutboxMessage) -> None:
    """The referrer's message about the bonus their referee's first purchase earned them."""
    if (message.result or {}).get("message_id"):
        return
    payload = message.payload
    referrer = db.session.get(Member, payload["referrer_id"])
    if referrer is None:
        raise outbox.Permanent("member deleted")
    reward = SimpleNamespace(toman=payload["toman"], xp=payload["xp"], level_change=_level(payload.get("level")))
    text = referral_bonus_text(language_of(referrer, referrer.tenant), reward)
    bot = bot_for_member(referrer)
    if text is None:
        return
    if bot is None:
        raise outbox.Permanent("the tenant has no active bot")
    _deliver(message, bot, referrer.telegram_id, text)


def _deliver(message: OutboxMessage, bot: Bot, chat_id: int, text: str, markup=None) -> None:
    call = outbound.bot_call("send_message", chat_id=chat_id, text=clip(text), reply_markup=markup)
    sent = outbound.perform(telebot_for(bot), call)
    remember(message, chat_id=chat_id, **outbound.sent_id(sent))


def _level(new_level: int | None):
    return SimpleNamespace(new_level=new_level) if new_level is not None else None


def _rewards(carried: dict | None):
    """The decision's rewards as bots/congratulations.py reads them (a level change, badges by code)."""
    if not carried:
        return None
    return SimpleNamespace(level_change=_level(carried.get("level")),
                           badges=[SimpleNamespace(badge_code=code) for code in carried.get("badges", [])])


def refresh_admin_messages(tb: TeleBot | None, receipt: Receipt, markup=None) -> None:
    """Rewrite every admin-chat copy of the receipt.

    With `markup` (an admin pressing Reject or Back): the copies show it, edited right after the admin's
    update commits. Without: they show the receipt's current state (buttons only while pending), edited
    by the outbox (receipt.admin_refresh) after the change commits.
    """
    if markup is None:
        announcements.refresh_admin_copies(receipt)
        return
    for chat_id, message_id, kind in receipt.admin_messages or []:
        method, params = receipt_outbound.edit_copy(receipt, kind, chat_id, message_id, markup)
        replies.call(tb, method, **params)


def _send(tb: TeleBot, chat_id: int, text: str, markup=None):
    try:
        return tb.send_message(chat_id, clip(text), reply_markup=markup)
    except (ApiTelegramException, requests.RequestException) as exc:  # blocked, chat gone, Telegram down
        log.info("message to %s not sent: %s", chat_id, _reason(exc))
        return None


def _reason(exc: Exception) -> str:
    """What went wrong, without the request URL (it holds the bot token)."""
    return exc.description if isinstance(exc, ApiTelegramException) else type(exc).__name__
