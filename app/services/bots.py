"""Bots: registering a token (encrypted at rest), reading it back, settings and flags."""
from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db
from app.models import Bot, FeatureFlag, Tenant
from app.services import crypto, settings
from app.services.errors import ValidationFailed

TOKEN_RE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{5,100}$")
#: The bot settings stored as feature switches, in declaration order.
FEATURES = tuple(s.key for s in settings.declared(settings.Scope.BOT) if s.feature_flag)


def check_token_format(token: str) -> str:
    token = (token or "").strip()
    if not TOKEN_RE.match(token):
        raise ValidationFailed("That is not a bot token. It looks like 123456789:AAE... (from @BotFather).")
    return token


def create_bot(tenant: Tenant, token: str, *, telegram_bot_id: int, username: str, first_name=None) -> Bot:
    """Store a bot whose token the caller has already checked with getMe."""
    token = check_token_format(token)
    fingerprint = crypto.sha256_hex(token)
    if db.session.scalar(sa.select(Bot.id).where(Bot.token_fingerprint == fingerprint)):
        raise ValidationFailed("This bot token is already connected.")
    bot = Bot(
        tenant_id=tenant.id, token_encrypted=crypto.encrypt(token), token_fingerprint=fingerprint,
        token_hint=token[-4:], telegram_bot_id=telegram_bot_id, username=username, first_name=first_name,
        webhook_secret=crypto.new_secret(24),
    )
    db.session.add(bot)
    db.session.flush()
    for key in FEATURES:
        db.session.add(FeatureFlag(bot_id=bot.id, key=key, enabled=True, config={}))
    db.session.flush()
    return bot


def bot_token(bot: Bot) -> str:
    """The plaintext token, for the bot runtime only; never render or log it."""
    return crypto.decrypt(bot.token_encrypted)


def feature_enabled(bot: Bot, key: str) -> bool:
    """A bot feature switch (a declared bot setting stored as a FeatureFlag)."""
    if not settings.spec(key).feature_flag:
        raise KeyError(f"{key} is not a feature switch")
    return settings.get(bot, key)
