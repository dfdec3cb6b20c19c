"""A bot's features and settings as the API edits them: settings go through the registry (app.services.settings),
feature flags keep their JSON config next to the registry's on/off."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models import Bot, FeatureFlag
from app.services import audit, bots, settings
from app.services.errors import NotFound


def features(bot: Bot) -> list[dict]:
    """Every declared feature with its state and config (no row: the declared default, no config)."""
    rows = {f.key: f for f in db.session.scalars(sa.select(FeatureFlag).where(FeatureFlag.bot_id == bot.id))}
    return [{"key": key, "enabled": settings.get(bot, key), "config": (rows[key].config or {}) if key in rows else {}}
            for key in bots.FEATURES]


def feature(bot: Bot, key: str) -> dict:
    _known_feature(key)
    return next(f for f in features(bot) if f["key"] == key)


def set_feature(bot: Bot, key: str, enabled: bool, config: dict, *, by) -> dict:
    _known_feature(key)
    settings.update(bot, {key: bool(enabled)}, by=audit.actor_of(by))
    row = db.session.scalar(sa.select(FeatureFlag).where(FeatureFlag.bot_id == bot.id, FeatureFlag.key == key))
    if row is None:
        row = FeatureFlag(bot_id=bot.id, key=key, enabled=bool(enabled))
        db.session.add(row)
    row.config = dict(config or {})
    bot.config_version += 1
    db.session.flush()
    return feature(bot, key)


def reset_feature(bot: Bot, key: str, *, by) -> None:
    """Back to the declared default, with no config."""
    _known_feature(key)
    db.session.execute(sa.delete(FeatureFlag).where(FeatureFlag.bot_id == bot.id, FeatureFlag.key == key))
    bot.config_version += 1
    audit.record(bot.tenant_id, audit.actor_of(by), "bot.feature_reset", f"bot:{bot.id}", key=key)
    db.session.flush()


def config_items(bot: Bot) -> list[dict]:
    """Every declared bot setting (not the feature switches) with its value or default."""
    return [{"key": key, "value": value} for key, value in settings.bot_config(bot).items()
            if key not in bots.FEATURES]


def config_item(bot: Bot, key: str) -> dict:
    _known_setting(key)
    return {"key": key, "value": settings.get(bot, key)}


def set_config(bot: Bot, key: str, value: Any, *, by) -> dict:
    """Validated by the registry (SettingsInvalid → 422); None resets to the default."""
    _known_setting(key)
    settings.update_bot_config(bot, {key: value}, by=audit.actor_of(by))
    return config_item(bot, key)


def _known_feature(key: str) -> None:
    if key not in bots.FEATURES:
        raise NotFound(f"No feature {key!r}; features are {', '.join(bots.FEATURES)}.")


def _known_setting(key: str) -> None:
    spec = settings.REGISTRY.get(key)
    if spec is None or spec.scope != settings.Scope.BOT or spec.feature_flag:
        raise NotFound(f"No bot setting {key!r}.")
