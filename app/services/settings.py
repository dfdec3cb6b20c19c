"""The one way to read and write a setting (declared in settings_declared.py), validated on write.

    settings.get(tenant, "referral_bonus_toman")        # typed value, or the declared default
    settings.update(tenant, {"referral_bonus_toman": "5000"}, by=account)   # validated, audited
    settings.bot_config(bot) / settings.update_bot_config(bot, {...}, by=...)   # for the API

An undeclared key raises KeyError, so a misspelt key fails the first test that reaches it.
"""
from __future__ import annotations

import re
from typing import Any
from zoneinfo import available_timezones

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import Account, Bot, BotSetting, FeatureFlag, PlatformSetting, Tenant
from app.services import audit
from app.services.amounts import ascii_digits
from app.services.errors import ValidationFailed
from app.services.settings_declared import DECLARED, LANGUAGES, Kind, Scope, Setting

REGISTRY: dict[str, Setting] = {s.key: s for s in DECLARED}
_INT = re.compile(r"^-?[0-9]{1,15}$")


class SettingsInvalid(ValidationFailed):
    """One message per refused key in `errors` (lazy, translated when shown); nothing was written."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("Invalid settings: " + ", ".join(errors), errors=errors)
        self.errors = errors


def declared(scope: Scope, group: str | None = None) -> list[Setting]:
    return [s for s in DECLARED if s.scope == scope and (group is None or s.group == group)]


def spec(key: str) -> Setting:
    return REGISTRY[key]


def _scope_of(target) -> Scope:
    if isinstance(target, Tenant):
        return Scope.TENANT
    if isinstance(target, Bot):
        return Scope.BOT
    if target is None:
        return Scope.PLATFORM
    raise TypeError(f"settings belong to a Tenant, a Bot or the platform (None), not {target!r}")


def _spec_for(target, key: str) -> Setting:
    setting = REGISTRY[key]
    if setting.scope != _scope_of(target):
        raise KeyError(f"{key} is a {setting.scope.value} setting")
    return setting


# reading ------------------------------------------------------------------------------------------

def get(target, key: str) -> Any:
    """The stored value of `key` for a Tenant, a Bot or the platform (None); the default if unset or malformed."""
    setting = _spec_for(target, key)
    raw = _load(target, setting)
    if raw is None:
        return _copy(setting.default)
    try:
        return coerce(setting, raw)
    except ValidationFailed:
        return _copy(setting.default)


def values(target) -> dict[str, Any]:
    return {s.key: get(target, s.key) for s in declared(_scope_of(target))}


def bot_config(bot: Bot) -> dict[str, Any]:
    """Every declared bot setting with its value: what the API's bot config endpoints return."""
    return values(bot)


def _load(target, setting: Setting) -> Any:
    if setting.scope == Scope.TENANT:
        if setting.column:
            return getattr(target, setting.column)
        return (target.settings or {}).get(setting.key)
    if setting.scope == Scope.BOT:
        return _bot_rows(target).get(setting.key)
    row = db.session.get(PlatformSetting, setting.key)
    return row.value if row else None


#: {bot id: ((config_version, created_at), {key: stored value})} per process. Every write of a bot's
#: settings or flags bumps its config_version, so an entry older than the bot row just read is reloaded
#: (2 statements) and a bot update's menu, welcome or support contact otherwise costs no statement.
#: created_at tells a new bot from a deleted one whose id SQLite (or a test's RESTART IDENTITY) reused.
_bot_cache: dict[int, tuple[tuple, dict[str, Any]]] = {}


def _bot_rows(bot: Bot) -> dict[str, Any]:
    stamp = (bot.config_version, bot.created_at)
    cached = _bot_cache.get(bot.id)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    rows = dict(db.session.execute(sa.select(BotSetting.key, BotSetting.value).where(BotSetting.bot_id == bot.id))
                .tuples().all())
    rows.update(db.session.execute(sa.select(FeatureFlag.key, FeatureFlag.enabled).where(FeatureFlag.bot_id == bot.id))
                .tuples().all())
    _bot_cache[bot.id] = (stamp, rows)
    return rows


def forget_bot(bot: Bot) -> None:
    """Drop the cached values of a bot (its config_version moved)."""
    _bot_cache.pop(bot.id, None)


def _copy(value):
    return list(value) if isinstance(value, list) else value


# writing ------------------------------------------------------------------------------------------

def update(target, raw_values: dict[str, Any], *, by: Account | str) -> dict[str, Any]:
    """Validate every value, then store those that changed; audited. Raises SettingsInvalid (nothing written)."""
    specs = {key: _known(target, key) for key in raw_values}
    errors, clean = {}, {}
    for key, raw in raw_values.items():
        try:
            clean[key] = None if _empty(raw) and specs[key].kind != Kind.BOOL else coerce(specs[key], raw)
        except ValidationFailed as err:
            errors[key] = err.message
    if errors:
        raise SettingsInvalid(errors)
    changed = {k: v for k, v in clean.items() if v != get(target, k) or (v is None and _load(target, specs[k]))}
    for key, value in changed.items():
        _store(target, specs[key], value)
    if changed:
        _after_change(target, changed, by)
    return {key: get(target, key) for key in changed}


def update_bot_config(bot: Bot, raw_values: dict[str, Any], *, by: Account | str) -> dict[str, Any]:
    """For the API: known bot keys only (SettingsInvalid names an unknown one); returns the full config."""
    update(bot, raw_values, by=by)
    return bot_config(bot)


def _known(target, key: str) -> Setting:
    setting = REGISTRY.get(key)
    if setting is None or setting.scope != _scope_of(target):
        raise SettingsInvalid({key: _l("Unknown setting.")})
    return setting


def _empty(raw) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _store(target, setting: Setting, value) -> None:
    if setting.scope == Scope.TENANT:
        if setting.column:
            setattr(target, setting.column, setting.default if value is None else value)
        else:
            stored = dict(target.settings or {})
            stored.pop(setting.key, None) if value is None else stored.update({setting.key: value})
            target.settings = stored
    elif setting.scope == Scope.BOT:
        _store_bot(target, setting, value)
    else:
        row = db.session.get(PlatformSetting, setting.key)
        if row is None:
            db.session.add(PlatformSetting(key=setting.key, value=value))
        else:
            row.value = value
    db.session.flush()


def _store_bot(bot: Bot, setting: Setting, value) -> None:
    model = FeatureFlag if setting.feature_flag else BotSetting
    row = db.session.scalar(sa.select(model).where(model.bot_id == bot.id, model.key == setting.key))
    if setting.feature_flag:
        if row is None:
            db.session.add(FeatureFlag(bot_id=bot.id, key=setting.key, enabled=bool(value), config={}))
        else:
            row.enabled = bool(value)
    elif value is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(BotSetting(bot_id=bot.id, key=setting.key, value=value))
    else:
        row.value = value


def _after_change(target, changed: dict, by) -> None:
    actor = by if isinstance(by, str) else audit.actor_of(by)
    shown = {k: _audit_value(v) for k, v in changed.items()}
    if isinstance(target, Tenant):
        audit.record(target.id, actor, "settings.update", f"tenant:{target.id}", changes=shown)
    elif isinstance(target, Bot):
        target.config_version += 1  # the engine and the settings cache re-read a bot's settings when this moves
        forget_bot(target)
        audit.record(target.tenant_id, actor, "bot.settings", f"bot:{target.id}", changes=shown)
    else:
        audit.record(None, actor, "platform.settings", None, changes=shown)


def _audit_value(value):
    if isinstance(value, str) and len(value) > 80:
        return value[:77] + "..."
    return value


# validation ---------------------------------------------------------------------------------------

def coerce(setting: Setting, raw: Any) -> Any:
    """The typed value of `raw` (a form string or a JSON value); ValidationFailed with a message otherwise."""
    return _COERCERS[setting.kind](setting, raw)


def _int(setting: Setting, raw) -> int:
    if isinstance(raw, bool):
        raise ValidationFailed(_l("Enter a whole number."))
    if isinstance(raw, str):
        text = ascii_digits(raw).strip().replace(",", "").replace("٬", "")
        if not _INT.match(text):
            raise ValidationFailed(_l("Enter a whole number."))
        raw = int(text)
    if not isinstance(raw, int):
        raise ValidationFailed(_l("Enter a whole number."))
    return _bounded(setting, raw)


def _bounded(setting: Setting, value: int) -> int:
    low, high = setting.minimum, setting.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValidationFailed(_l("Enter a number from %(low)s to %(high)s.", low=f"{low:,}", high=f"{high:,}"))
    return value


def _bool(setting: Setting, raw) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in {"1", "true", "on", "yes", "y"}:
        return True
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in {"", "0", "false", "off", "no", "n"}):
        return False
    raise ValidationFailed(_l("Choose yes or no."))


def _text(setting: Setting, raw) -> str:
    if not isinstance(raw, str):
        raise ValidationFailed(_l("Enter text."))
    text = raw.replace("\x00", "").strip()
    if setting.max_length and len(text) > setting.max_length:
        raise ValidationFailed(_l("At most %(n)s characters.", n=setting.max_length))
    return text


def _localized_text(setting: Setting, raw) -> str | dict[str, str] | None:
    if isinstance(raw, str):
        return _text(setting, raw) or None
    if not isinstance(raw, dict) or any(lang not in LANGUAGES for lang in raw):
        raise ValidationFailed(_l("Enter a text per language (fa, en, ru)."))
    texts = {lang: _text(setting, raw[lang] or "") for lang in LANGUAGES if raw.get(lang)}
    return {lang: text for lang, text in texts.items() if text} or None


def _choice(setting: Setting, raw) -> str:
    if raw not in setting.choices:
        raise ValidationFailed(_l("Choose one of the offered values."))
    return raw


def _choices(setting: Setting, raw) -> list[str]:
    items = _split(raw)
    if any(item not in setting.choices for item in items):
        raise ValidationFailed(_l("Choose among the offered values."))
    return [c for c in setting.choices if c in items]


def _int_list(setting: Setting, raw) -> list[int]:
    numbers = [_int(setting, item) for item in _split(raw)]
    if setting.max_items and len(numbers) > setting.max_items:
        raise ValidationFailed(_l("At most %(n)s values.", n=setting.max_items))
    return numbers


def _levels(setting: Setting, raw) -> list[int]:
    table = _int_list(setting, raw)
    if not table or table[0] != 0 or any(b <= a for a, b in zip(table, table[1:])):
        raise ValidationFailed(_l("The table starts at 0 and each level needs more XP than the one before."))
    return table


def _chat_ids(setting: Setting, raw) -> list[int]:
    ids = []
    for item in _split(raw):
        text = ascii_digits(str(item)).strip() if not isinstance(item, int) or isinstance(item, bool) else str(item)
        if not re.fullmatch(r"-?[0-9]{1,20}", text):
            raise ValidationFailed(_l("Chat ids are whole numbers, e.g. 123456789 or -1001234567890."))
        ids.append(int(text))
    if setting.max_items and len(ids) > setting.max_items:
        raise ValidationFailed(_l("At most %(n)s values.", n=setting.max_items))
    return ids


def _timezone(setting: Setting, raw) -> str:
    if not isinstance(raw, str) or raw.strip() not in _zones():
        raise ValidationFailed(_l("Choose a time zone such as Asia/Tehran."))
    return raw.strip()


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


def _split(raw) -> list:
    if raw is None:
        return []
    if isinstance(raw, (list, tuple)):
        return list(raw)
    if isinstance(raw, str):
        return [p for p in re.split(r"[,،\s]+", ascii_digits(raw)) if p]
    raise ValidationFailed(_l("Enter a list of values."))


_COERCERS = {Kind.INT: _int, Kind.BOOL: _bool, Kind.TEXT: _text, Kind.CHOICE: _choice, Kind.CHOICES: _choices,
             Kind.INT_LIST: _int_list, Kind.LEVELS: _levels, Kind.CHAT_IDS: _chat_ids, Kind.TIMEZONE: _timezone,
             Kind.LOCALIZED_TEXT: _localized_text}
