"""A bot's feature flags and settings as the API edits them (kept small: the settings registry will own this)."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models import Bot, BotSetting, FeatureFlag
from app.services import audit, bots
from app.services.bot_registration import SETTING_KEYS
from app.services.errors import NotFound, ValidationFailed


def features(bot: Bot) -> list[dict]:
    """Every known feature with its state (a feature without a row is on, with no config)."""
    rows = {f.key: f for f in db.session.scalars(sa.select(FeatureFlag).where(FeatureFlag.bot_id == bot.id))}
    return [{"key": key, "enabled": rows[key].enabled if key in rows else True,
             "config": (rows[key].config or {}) if key in rows else {}} for key in bots.FEATURES]


def feature(bot: Bot, key: str) -> dict:
    _known_feature(key)
    return next(f for f in features(bot) if f["key"] == key)


def set_feature(bot: Bot, key: str, enabled: bool, config: dict, *, by=None) -> dict:
    _known_feature(key)
    row = db.session.scalar(sa.select(FeatureFlag).where(FeatureFlag.bot_id == bot.id, FeatureFlag.key == key))
    if row is None:
        row = FeatureFlag(bot_id=bot.id, key=key)
        db.session.add(row)
    row.enabled, row.config = bool(enabled), dict(config or {})
    _changed(bot, by, "bot.feature", key=key, enabled=row.enabled)
    return feature(bot, key)


def reset_feature(bot: Bot, key: str, *, by=None) -> None:
    """Back to the default: on, no config."""
    _known_feature(key)
    db.session.execute(sa.delete(FeatureFlag).where(FeatureFlag.bot_id == bot.id, FeatureFlag.key == key))
    _changed(bot, by, "bot.feature_reset", key=key)


def settings(bot: Bot) -> list[dict]:
    rows = db.session.scalars(sa.select(BotSetting).where(BotSetting.bot_id == bot.id).order_by(BotSetting.key))
    return [{"key": row.key, "value": row.value} for row in rows]


def setting(bot: Bot, key: str) -> dict:
    _known_setting(key)
    row = db.session.scalar(sa.select(BotSetting).where(BotSetting.bot_id == bot.id, BotSetting.key == key))
    if row is None:
        raise NotFound(f"The setting {key!r} is not set on this bot.")
    return {"key": key, "value": row.value}


def set_setting(bot: Bot, key: str, value: Any, *, by=None) -> dict:
    _known_setting(key)
    if value is None:
        raise ValidationFailed("A setting's value cannot be null; DELETE it instead.")
    bots.set_setting(bot, key, value)
    _changed(bot, by, "bot.setting", key=key)
    return {"key": key, "value": value}


def delete_setting(bot: Bot, key: str, *, by=None) -> None:
    _known_setting(key)
    db.session.execute(sa.delete(BotSetting).where(BotSetting.bot_id == bot.id, BotSetting.key == key))
    _changed(bot, by, "bot.setting_reset", key=key)


def _changed(bot: Bot, by, action: str, **data) -> None:
    bot.config_version += 1
    audit.record(bot.tenant_id, audit.actor_of(by), action, f"bot:{bot.id}", **data)
    db.session.flush()


def _known_feature(key: str) -> None:
    if key not in bots.FEATURES:
        raise NotFound(f"No feature {key!r}; features are {', '.join(bots.FEATURES)}.")


def _known_setting(key: str) -> None:
    if key not in SETTING_KEYS:
        raise NotFound(f"No setting {key!r}; settings are {', '.join(SETTING_KEYS)}.")
