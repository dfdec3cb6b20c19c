"""Messages to members from outside a conversation (jobs, the dashboard): through one of the tenant's bots."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import requests
import sqlalchemy as sa
from telebot import TeleBot
from telebot.apihelper import ApiTelegramException

from app.extensions import db
from app.models import Bot, BotSession, Member, Receipt
from app.services.bots import bot_token
from bots import formatting, receipt_views
from bots.congratulations import referral_bonus_text
from bots.context import clip, language_of
from bots.i18n import t
from bots.keyboards import button, keyboard

log = logging.getLogger(__name__)


def telebot_for(bot: Bot) -> TeleBot:
    """A sending-only TeleBot for `bot` (pyTelegramBotAPI's API_URL is set process-wide)."""
    tb = TeleBot(bot_token(bot), threaded=False)
    tb.botfleet_bot_id = bot.id
    return tb


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


def announce_decision(receipt: Receipt, telebot: TeleBot | None = None) -> None:
    """After approve/reject (from Telegram or the dashboard): update the admin copies and tell the member.

    Call it after the decision is committed; Telegram refusing or being unreachable is logged, not raised.
    """
    tb = telebot if telebot is not None and telebot.botfleet_bot_id == receipt.bot_id else None
    if tb is None:
        bot = receipt.bot if receipt.bot is not None and receipt.bot.is_active else bot_for_member(receipt.member)
        if bot is None:
            return
        tb = telebot_for(bot)
    refresh_admin_messages(tb, receipt)
    lang = language_of(receipt.member, receipt.member.tenant)
    text, markup = receipt_views.member_decision(receipt, lang)
    _send(tb, receipt.member.telegram_id, text, markup)
    tell_referrer(getattr(getattr(receipt, "rewards", None), "referral", None))


def tell_referrer(reward) -> None:
    """Tell a referrer about the bonus their referee's first purchase earned (a referrals.ReferralReward)."""
    if reward is None:
        return
    referrer = reward.referrer
    text = referral_bonus_text(language_of(referrer, referrer.tenant), reward)
    bot = bot_for_member(referrer)
    if text is not None and bot is not None:
        _send(telebot_for(bot), referrer.telegram_id, text)


def refresh_admin_messages(tb: TeleBot, receipt: Receipt, markup=None) -> None:
    """Rewrite every admin-chat copy of the receipt to its current state (buttons only while pending)."""
    lang = receipt_views.admin_language(receipt.member.tenant)
    caption = receipt_views.admin_caption(receipt, lang)
    for chat_id, message_id, kind in receipt.admin_messages or []:
        try:
            if kind == "photo":
                tb.edit_message_caption(caption, chat_id, message_id, reply_markup=markup)
            else:
                tb.edit_message_text(caption, chat_id, message_id, reply_markup=markup)
        except (ApiTelegramException, requests.RequestException) as exc:
            log.info("receipt %s: admin copy in %s not edited: %s", receipt.tracking_code, chat_id, _reason(exc))


def _send(tb: TeleBot, chat_id: int, text: str, markup=None):
    try:
        return tb.send_message(chat_id, clip(text), reply_markup=markup)
    except (ApiTelegramException, requests.RequestException) as exc:  # blocked, chat gone, Telegram down
        log.info("message to %s not sent: %s", chat_id, _reason(exc))
        return None


def _reason(exc: Exception) -> str:
    """What went wrong, without the request URL (it holds the bot token)."""
    return exc.description if isinstance(exc, ApiTelegramException) else type(exc).__name__
