"""Issue 14 item 7: production refuses the sandbox and the demo login; request bodies are capped;
the sandbox's access log never prints a webhook's secret_token."""
import logging

import pytest
import requests
import sqlalchemy as sa

from app import create_app
from app.models import Account
from bots.emulator import SandboxServer
from config import TestConfig
from tests.waiting import wait_for


@pytest.fixture
def production_runner(database_url, db):
    """The CLI of an app configured as production (on the test database)."""
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, BOTFLEET_ENV="production")
    with app.app_context():  # commands run in the current app's context: this one, not the suite's
        yield app.test_cli_runner()
        from app.extensions import db as _db
        _db.session.remove()
        _db.engine.dispose()


def test_seed_demo_is_refused_in_production(production_runner, db):
    result = production_runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "refused in production" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Account.id))) == 0


@pytest.mark.parametrize("args", [["serve", "--port", "5599"], ["sandbox", "--port", "5598"]])
def test_the_sandbox_is_refused_in_production(production_runner, monkeypatch, args):
    import bots.emulator
    from app import devserver

    started = []
    monkeypatch.setattr(devserver, "serve_all", lambda *a, **kw: started.append(a))
    monkeypatch.setattr(bots.emulator, "serve_forever", lambda *a: started.append(a))
    result = production_runner.invoke(args=args)
    assert result.exit_code != 0 and "refused in production" in result.output and not started


def test_production_serves_without_the_sandbox_or_when_explicitly_allowed(database_url, db, monkeypatch):
    from app import devserver

    started = []
    monkeypatch.setattr(devserver, "serve_all", lambda app, host, port, sandbox, bots: started.append(sandbox))
    plain = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, BOTFLEET_ENV="production")
    allowed = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, BOTFLEET_ENV="production",
                         SANDBOX_IN_PRODUCTION=True)
    for app, args in ((plain, ["serve", "--no-sandbox"]), (allowed, ["serve"]), (plain, ["serve"])):
        with app.app_context():
            app.test_cli_runner().invoke(args=args)
    assert started == [False, True]


def test_a_huge_webhook_body_is_refused_unread(client, make):
    tenant = make.tenant()
    bot = make.bot(tenant)
    body = b'{"update_id": 1, "message": {"text": "' + b"x" * (20 * 1024 * 1024) + b'"}}'
    response = client.post(f"/tg/{bot.id}", data=body, content_type="application/json",
                           headers={"X-Telegram-Bot-Api-Secret-Token": bot.webhook_secret})
    assert response.status_code == 413


def test_any_request_body_is_capped(client):
    response = client.post("/login", data=b"a" * (9 * 1024 * 1024), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413


def test_the_sandbox_log_masks_the_webhook_secret(caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")
    token = "5551234:AAsecret-bot-token"
    with SandboxServer() as sandbox:
        requests.post(f"{sandbox.url}/sandbox/bots", json={"token": token}, timeout=10)
        answer = requests.post(f"{sandbox.url}/bot{token}/setWebhook", timeout=10,
                               params={"url": "https://example.com/tg/1", "secret_token": "s3cr3t-VALUE"})
        assert answer.json()["ok"] is True
        assert wait_for(lambda: "setWebhook" in caplog.text, timeout=10)
    assert "s3cr3t-VALUE" not in caplog.text and "AAsecret-bot-token" not in caplog.text
    assert "secret_token=***" in caplog.text
