"""Bots: registering a token (encrypted at rest), reading it back, settings and flags."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models import Bot, BotSetting, FeatureFlag, Tenant
from app.services import crypto
from app.services.errors import ValidationFailed

TOKEN_RE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{5,100}$")
FEATURES = ("card_to_card", "promocodes", "referrals", "leaderboard", "daily_quota")


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


@dataclass(frozen=True)
class BotConfig:
    """A bot's settings and feature flags as of one config_version."""

    version: int
    settings: dict[str, Any]
    flags: dict[str, bool]


#: {bot id: BotConfig}, per process. Every change to a bot's settings or flags bumps its config_version,
#: so an entry whose version differs from the bot row the update just read is reloaded (2 statements);
#: otherwise a menu, a welcome or a support contact costs no statement at all.
_configs: dict[int, BotConfig] = {}


def bot_config(bot: Bot) -> BotConfig:
    """The bot's settings and flags, from the per-process cache when it matches bot.config_version."""
    cached = _configs.get(bot.id)
    if cached is not None and cached.version == bot.config_version:
        return cached
    settings = dict(db.session.execute(sa.select(BotSetting.key, BotSetting.value).where(BotSetting.bot_id == bot.id))
                    .tuples().all())
    flags = dict(db.session.execute(sa.select(FeatureFlag.key, FeatureFlag.enabled).where(FeatureFlag.bot_id == bot.id))
                 .tuples().all())
    config = BotConfig(bot.config_version, settings, flags)
    _configs[bot.id] = config
    return config


def changed(bot: Bot) -> None:
    """Record a change the running bot must pick up: bump config_version (the engine and caches follow it)."""
    bot.config_version = (bot.config_version or 0) + 1
    _configs.pop(bot.id, None)


def get_setting(bot: Bot, key: str, default: Any = None) -> Any:
    value = bot_config(bot).settings.get(key)
    return default if value is None else value


def set_setting(bot: Bot, key: str, value: Any) -> None:
    setting = db.session.scalar(sa.select(BotSetting).where(BotSetting.bot_id == bot.id, BotSetting.key == key))
    if setting is None:
        db.session.add(BotSetting(bot_id=bot.id, key=key, value=value))
    else:
        setting.value = value
    changed(bot)
    db.session.flush()


def set_feature(bot: Bot, key: str, enabled: bool) -> None:
    """Switch a feature of the bot on or off."""
    if key not in FEATURES:
        raise ValidationFailed(f"Unknown feature {key!r}.")
    flag = db.session.scalar(sa.select(FeatureFlag).where(FeatureFlag.bot_id == bot.id, FeatureFlag.key == key))
    if flag is None:
        db.session.add(FeatureFlag(bot_id=bot.id, key=key, enabled=enabled, config={}))
    else:
        flag.enabled = enabled
    changed(bot)
    db.session.flush()


def feature_enabled(bot: Bot, key: str) -> bool:
    """Whether the feature is on (a flag that does not exist is on)."""
    return bot_config(bot).flags.get(key, True)
