"""Connecting a bot from the dashboard: its token is checked with getMe before anything is stored."""
from __future__ import annotations

import sqlalchemy as sa
import telebot
from flask import current_app
from telebot import apihelper

from app import telegram_api
from app.extensions import db
from app.models import Account, Bot, Tenant
from app.services import audit, bots, crypto
from app.services.errors import ValidationFailed


def connect_bot(tenant: Tenant, token: str, by: Account) -> Bot:
    """Check the token with getMe through the library's own client, then store the bot (refusing duplicates)."""
    token = bots.check_token_format(token)
    if db.session.scalar(sa.select(Bot.id).where(Bot.token_fingerprint == crypto.sha256_hex(token))):
        raise ValidationFailed("This bot token is already connected.")
    telegram_api.configure(current_app)
    try:
        me = telebot.TeleBot(token, threaded=False).get_me()
    except apihelper.ApiTelegramException as err:
        raise ValidationFailed(f"Telegram refused this token ({err.error_code}). Copy it again from @BotFather.") \
            from None
    except Exception:  # network trouble: never echo the exception, it holds the token in its URL
        raise ValidationFailed("Could not reach Telegram to check the token. Try again in a minute.") from None
    bot = bots.create_bot(tenant, token, telegram_bot_id=me.id, username=me.username, first_name=me.first_name)
    audit.record(tenant.id, audit.actor_of(by), "bot.connect", f"bot:{bot.id}", username=me.username)
    return bot


def set_active(bot: Bot, active: bool, by: Account) -> Bot:
    """Enable or disable a bot; the running engine sees config_version move and starts or stops it."""
    bot.is_active = active
    bot.config_version += 1
    audit.record(bot.tenant_id, audit.actor_of(by), "bot.enable" if active else "bot.disable", f"bot:{bot.id}")
    db.session.flush()
    return bot


def remove_bot(bot: Bot, by) -> None:
    """Disconnect a bot for good: its sessions, flags and settings go; members, receipts and money stay."""
    audit.record(bot.tenant_id, audit.actor_of(by), "bot.remove", f"bot:{bot.id}", username=bot.username)
    db.session.delete(bot)
    db.session.flush()
