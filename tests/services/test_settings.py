"""The settings registry: typed reads with declared defaults, validated writes, audit, the API helpers, migration."""
from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.extensions import db as _db
from app.models import AuditLog, BotSetting
from app.services import settings
from app.services.settings_declared import DECLARED, Kind, Scope
from config import TestConfig
from tests import pg

ROOT = Path(__file__).resolve().parents[2]


def test_every_declaration_is_complete_and_its_default_valid(app):
    with app.test_request_context():
        for spec in DECLARED:
            assert str(spec.label) and str(spec.help), spec.key
            assert spec.scope != Scope.TENANT or spec.group in {"sales", "growth", "bots", "locale"}, spec.key
            if spec.default is not None:
                assert settings.coerce(spec, spec.default) == spec.default, spec.key
    assert len({s.key for s in DECLARED}) == len(DECLARED)


def test_unset_values_read_as_declared_defaults(db, make):
    tenant, bot = make.tenant(), None
    bot = make.bot(tenant)
    assert settings.get(tenant, "daily_quota_free") == 25
    assert settings.get(tenant, "topup_presets") == [100_000, 200_000, 500_000]
    assert settings.get(bot, "card_to_card") is True and settings.get(bot, "admin_chat_ids") == []
    assert settings.get(None, "wholesale_percent") == 0


def test_an_undeclared_or_wrong_scope_key_is_an_error(db, make):
    tenant = make.tenant()
    with pytest.raises(KeyError):
        settings.get(tenant, "free_daily_quota")       # the old bot page's key: no longer exists
    with pytest.raises(KeyError):
        settings.get(tenant, "welcome_text")           # a bot setting asked of a tenant
    with pytest.raises(settings.SettingsInvalid) as refused:
        settings.update(tenant, {"free_daily_quota": 5}, by="system")
    assert set(refused.value.errors) == {"free_daily_quota"}


@pytest.mark.parametrize("key,raw,expected", [
    ("daily_quota_free", "۱۲", 12), ("daily_quota_free", 7, 7), ("referral_bonus_toman", "25,000", 25_000),
    ("topup_presets", "50000 ، ۷۰۰۰۰", [50_000, 70_000]), ("levels", [0, 10, 30], [0, 10, 30]),
    ("xp_sources_disabled", ["topup", "purchase"], ["purchase", "topup"]), ("persian_digits", "", False),
    ("timezone", "Europe/Berlin", "Europe/Berlin"), ("default_language", "en", "en"),
])
def test_values_are_parsed_from_forms_and_json(db, make, key, raw, expected):
    tenant = make.tenant()
    settings.update(tenant, {key: raw}, by="system")
    assert settings.get(tenant, key) == expected


@pytest.mark.parametrize("key,raw", [
    ("daily_quota_free", "-1"), ("daily_quota_free", "²"), ("daily_quota_free", True), ("daily_quota_free", 2.5),
    ("daily_quota_free", "1" * 40), ("topup_presets", "1000, 2000, 3000, 4000"), ("topup_presets", "10"),
    ("levels", "5, 10"), ("levels", "0, 10, 10"), ("xp_sources_disabled", ["sleeping"]),
    ("timezone", "Mars/Olympus"), ("default_language", "de"), ("receipt_timeout_hours", "0"),
])
def test_bad_values_are_refused_and_nothing_is_written(db, make, key, raw):
    tenant = make.tenant()
    before = (dict(tenant.settings or {}), tenant.timezone, tenant.receipt_timeout_hours)
    with pytest.raises(settings.SettingsInvalid) as refused:
        settings.update(tenant, {key: raw, "referral_bonus_xp": 1}, by="system")
    assert list(refused.value.errors) == [key]
    assert (dict(tenant.settings or {}), tenant.timezone, tenant.receipt_timeout_hours) == before


def test_column_settings_are_stored_in_their_typed_columns(db, make):
    tenant = make.tenant()
    settings.update(tenant, {"receipt_timeout_hours": "6", "timezone": "UTC"}, by="system")
    assert (tenant.receipt_timeout_hours, tenant.timezone) == (6, "UTC")
    assert "receipt_timeout_hours" not in (tenant.settings or {})


def test_a_malformed_stored_value_reads_as_the_default(db, make):
    tenant = make.tenant()
    tenant.settings = {"daily_quota_free": "lots", "referral_bonus_toman": -5}
    assert settings.get(tenant, "daily_quota_free") == 25 and settings.get(tenant, "referral_bonus_toman") == 0


def test_changes_are_audited_with_only_the_changed_keys_and_bump_the_bot_config(db, make):
    tenant = make.tenant()
    bot = make.bot(tenant)
    version = bot.config_version
    settings.update(bot, {"support_contact": "@help", "card_to_card": True, "promocodes": False}, by="system")
    db.session.commit()
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "bot.settings"))
    assert entry.data["changes"] == {"support_contact": "@help", "promocodes": False}
    assert bot.config_version == version + 1
    assert settings.update(bot, {"support_contact": "@help"}, by="system") == {}


def test_clearing_a_text_removes_it(db, make):
    bot = make.bot(make.tenant())
    settings.update(bot, {"support_contact": "@help"}, by="system")
    settings.update(bot, {"support_contact": "  "}, by="system")
    assert settings.get(bot, "support_contact") is None
    assert db.session.scalar(sa.select(sa.func.count(BotSetting.id))) == 0


def test_bot_config_helpers_for_the_api(db, make):
    bot = make.bot(make.tenant())
    config = settings.update_bot_config(bot, {"welcome_text": {"en": "Hi"}, "leaderboard": False}, by="api:1")
    assert config == settings.bot_config(bot)
    assert config["welcome_text"] == {"en": "Hi"} and config["leaderboard"] is False
    assert set(config) == {s.key for s in DECLARED if s.scope == Scope.BOT}
    with pytest.raises(settings.SettingsInvalid):
        settings.update_bot_config(bot, {"daily_quota_free": 3}, by="api:1")   # a tenant key


def test_no_code_reads_a_setting_store_by_a_bare_key():
    """Only the registry touches Tenant.settings, BotSetting, FeatureFlag values and PlatformSetting values."""
    allowed = {"app/services/settings.py", "app/runtime/heartbeat.py", "app/models/tenancy.py", "app/models/bots.py",
               "app/models/__init__.py", "app/services/bots.py"}
    pattern = re.compile(r"[\w)\]]\.settings\b|\bBotSetting\b|\bPlatformSetting\b|FeatureFlag\.(enabled|config)")
    offenders = []
    for path in list((ROOT / "app").rglob("*.py")) + list((ROOT / "bots").rglob("*.py")):
        relative = str(path.relative_to(ROOT))
        if relative in allowed:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = re.sub(r'"[^"]*"|\'[^\']*\'', '""', line.split("#")[0]).strip()   # strings are not reads
            if pattern.search(code.replace("self.settings", "").replace("services.settings", "")) and not code.startswith(("from ", "import ")):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []


@pytest.fixture
def old_database(backend, tmp_path):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with pg.fresh_database(f"botfleet_set_{uuid.uuid4().hex[:12]}") as url:
        yield url


def test_the_data_migration_moves_old_keys_to_their_declared_ones(old_database):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=old_database)
    with app.app_context():
        upgrade(revision="0003_member_xp_today_day")
        with _db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO tenants (id, name, slug, timezone, default_language, "
                                 "card_rotation_strategy, card_rotation_minutes, receipt_timeout_hours, wallet_balance, "
                                 "wallet_credit_limit, traffic_sold_bytes, traffic_consumed_bytes, settings, is_active, "
                                 "created_at) VALUES (1, 'Old', 'old', 'Asia/Tehran', 'fa', 'round_robin', 60, 24, 0, 0, "
                                 "0, 0, :s, true, CURRENT_TIMESTAMP)"), {"s": '{"referral_bonus_toman": "5000"}'})
            conn.execute(sa.text("INSERT INTO bots (id, tenant_id, token_encrypted, token_fingerprint, token_hint, "
                                 "telegram_bot_id, username, webhook_secret, status, is_active, config_version, created_at) "
                                 "VALUES (1, 1, 'x', 'f', 'hint', 1, 'b', 's', 'stopped', true, 1, CURRENT_TIMESTAMP)"))
            conn.execute(sa.text("INSERT INTO bot_settings (bot_id, key, value) VALUES (1, 'free_daily_quota', '2'), "
                                 "(1, 'support_contact', '\"@x\"')"))
            conn.execute(sa.text("INSERT INTO platform_settings (key, value, updated_at) VALUES ('wholesale', "
                                 "'{\"per_gb\": 900, \"percent\": 4}', CURRENT_TIMESTAMP)"))
        upgrade()
        from app.models import Bot, Tenant
        tenant, bot = _db.session.get(Tenant, 1), _db.session.get(Bot, 1)
        assert settings.get(tenant, "daily_quota_free") == 2 and tenant.settings["referral_bonus_toman"] == 5000
        assert settings.get(bot, "support_contact") == "@x"
        assert [r.key for r in _db.session.scalars(sa.select(BotSetting))] == ["support_contact"]
        assert (settings.get(None, "wholesale_per_gb"), settings.get(None, "wholesale_percent")) == (900, 4)
        _db.session.remove()
        _db.engine.dispose()
