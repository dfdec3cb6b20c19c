import types

import pytest
from cryptography.fernet import Fernet

from config import DevelopmentConfig, ProductionConfig, TestConfig


def fake_app(tmp_path, **config):
    return types.SimpleNamespace(config=dict(config), instance_path=str(tmp_path))


def test_production_refuses_to_start_without_secrets(tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        ProductionConfig.init_app(fake_app(tmp_path))
    with pytest.raises(RuntimeError, match="TOKEN_ENCRYPTION_KEY"):
        ProductionConfig.init_app(fake_app(tmp_path, SECRET_KEY="s"))
    with pytest.raises(RuntimeError, match="not a valid Fernet key"):
        ProductionConfig.init_app(fake_app(tmp_path, SECRET_KEY="s", TOKEN_ENCRYPTION_KEY="nope"))
    ProductionConfig.init_app(fake_app(tmp_path, SECRET_KEY="s", TOKEN_ENCRYPTION_KEY=Fernet.generate_key().decode()))


def test_development_generates_secrets_once_and_keeps_them(tmp_path):
    first, second = fake_app(tmp_path), fake_app(tmp_path)
    DevelopmentConfig.init_app(first)
    DevelopmentConfig.init_app(second)
    assert first.config["SECRET_KEY"] and first.config == second.config
    Fernet(first.config["TOKEN_ENCRYPTION_KEY"])
    assert (tmp_path / "secrets.env").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("config", [DevelopmentConfig, ProductionConfig])
def test_real_password_hashes_are_scrypt_only_the_tests_use_a_cheap_one(config):
    from flask import Flask

    from app.models import Account

    plain = Flask(__name__)
    plain.config.from_object(config)
    with plain.app_context():
        account = Account(email="a@example.com")
        account.set_password("a long secret")
    assert account.password_hash.startswith("scrypt:") and account.check_password("a long secret")
    outside = Account(email="b@example.com")
    outside.set_password("a long secret")
    assert outside.password_hash.startswith("scrypt:")
    assert TestConfig.PASSWORD_HASH_METHOD != "scrypt"


def test_tuning_knobs_set_in_the_environment_reach_the_code_that_reads_them(monkeypatch):
    from app import create_app
    from app.worker.pool import Pool

    monkeypatch.setenv("OUTBOX_BATCH", "25")
    monkeypatch.setenv("BOT_ALLOWED_UPDATES", "message, callback_query")
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://")
    assert Pool(app).batch == 25
    assert app.config["BOT_ALLOWED_UPDATES"] == ["message", "callback_query"]
    assert "TELEGRAM_LIMIT_GUARD_SECONDS" not in app.config  # unset: the code's own default holds

    monkeypatch.setenv("TELEGRAM_LIMIT_GUARD_SECONDS", "soon")
    with pytest.raises(RuntimeError, match="TELEGRAM_LIMIT_GUARD_SECONDS must be float, not 'soon'"):
        create_app(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://")
