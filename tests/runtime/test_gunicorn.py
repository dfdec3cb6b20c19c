"""Real gunicorn, 3 workers, Postgres, polling bots on a sandbox: one leader, one poller per bot, and a
new leader whose bots answer again when the first is killed."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet

from bots.i18n import t
from tests import pg
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


BOT_TOKENS = ("7100001:gunicorn-bot-one", "7100002:gunicorn-bot-two")
USER_ID = 424242


def _env(url: str, sandbox_url: str) -> dict:
    return {**os.environ, "BOTFLEET_ENV": "production", "DATABASE_URL": url, "SECRET_KEY": "gunicorn-test",
            "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(), "GUNICORN_BIND": "127.0.0.1:0",
            "WEB_CONCURRENCY": "3", "GUNICORN_THREADS": "2", "GUNICORN_ACCESS_LOG": "",
            "RUNTIME_INTERVAL_SECONDS": "1", "TELEGRAM_API_URL": sandbox_url, "BOT_MODE": "polling",
            # A killed leader's last long-poll holds its bots for up to this long (409s for the next poller).
            "BOT_POLL_TIMEOUT": "2", "BOT_SYNC_INTERVAL": "0.5"}


def _seed_bots(url: str, key: str) -> list[int]:
    """Two active bots, each of its own tenant, tokens encrypted with the workers' key; their Telegram ids."""
    from app import create_app
    from app.extensions import db
    from app.services import bots, tenancy
    from config import TestConfig

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, TOKEN_ENCRYPTION_KEY=key)
    with app.app_context():
        owner = tenancy.create_account("g@example.com", "pw-gunicorn-42")
        for token in BOT_TOKENS:
            tg_id = int(token.split(":")[0])
            tenant = tenancy.create_tenant(f"Bots {tg_id}", owner)
            bots.create_bot(tenant, token, telegram_bot_id=tg_id, username=f"sandbox{tg_id}_bot")
        db.session.commit()
        db.engine.dispose()
    return [int(token.split(":")[0]) for token in BOT_TOKENS]


def _seed_due_tenant(engine) -> int:
    """A tenant whose last reset was yesterday, with a member holding XP from yesterday."""
    with engine.begin() as conn:
        tenant_id = conn.scalar(sa.text(
            "INSERT INTO tenants (name, slug, timezone, default_language, card_rotation_strategy, "
            "card_rotation_minutes, receipt_timeout_hours, wallet_balance, wallet_credit_limit, "
            "traffic_sold_bytes, traffic_consumed_bytes, settings, last_daily_reset_day, is_active, created_at) "
            "VALUES ('G', 'g', 'Asia/Tehran', 'fa', 'round_robin', 60, 24, 0, 0, 0, 0, '{}', :day, true, now()) "
            "RETURNING id"), {"day": date.today() - timedelta(days=2)})
        conn.execute(sa.text(
            "INSERT INTO members (tenant_id, telegram_id, referral_code, balance, vip_level, is_newcomer, "
            "is_banned, total_xp, xp_today, level, streak_days, created_at) "
            "VALUES (:t, 1, 'r1', 0, 0, false, false, 9, 9, 1, 0, now())"), {"t": tenant_id})
    return tenant_id


def _leader(engine) -> dict | None:
    with engine.connect() as conn:
        value = conn.scalar(sa.text("SELECT value FROM platform_settings WHERE key = 'runtime_leader'"))
    return value


def _advisory_locks(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"))



@pytest.fixture
def database():
    with pg.fresh_database(f"botfleet_gunicorn_{uuid.uuid4().hex[:10]}") as url:
        engine = sa.create_engine(url)
        yield url, engine
        engine.dispose()


@pytest.fixture
def sandbox(start_sandbox):
    return start_sandbox()


def test_three_workers_one_leader_and_a_takeover_after_kill_9(database, sandbox, tmp_path):
    url, engine = database
    env = _env(url, sandbox.url)
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    tenant_id = _seed_due_tenant(engine)
    bot_ids = _seed_bots(url, env["TOKEN_ENCRYPTION_KEY"])
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"], cwd=ROOT, env=env,
                                  stdout=log, stderr=subprocess.STDOUT)
    try:
        _check_one_leader_then_takeover(engine, server, log_path, tenant_id, Bots(sandbox, bot_ids))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()


def _check_one_leader_then_takeover(engine, server, log_path, tenant_id, bots):
    first = wait_for(lambda: _leader(engine) or server.poll() is not None, timeout=30)
    assert server.poll() is None, log_path.read_text()
    assert first, log_path.read_text()
    port = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log_path.read_text()).group(1)
    workers = {int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", log_path.read_text())}
    assert len(workers) == 3 and first["pid"] in workers
    time.sleep(3)                                    # deliberate: every worker has had several tries at the lock
    assert _advisory_locks(engine) == 1
    assert log_path.read_text().count("this process is the leader") == 1
    assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()["leader"]["pid"] == first["pid"]
    _assert_reset_once(engine, tenant_id)
    bots.assert_each_answers("start.welcome_new", log_path)
    assert "bots" in _leader(engine)["components"]
    bots.assert_one_poller_each(since=0.0)

    os.kill(first["pid"], signal.SIGKILL)
    killed_at = time.monotonic()
    second = wait_for(lambda: (beat := _leader(engine)) and beat["pid"] != first["pid"] and beat, timeout=15)
    assert second, f"no new leader within 15 s\n{log_path.read_text()}"
    assert time.monotonic() - killed_at < 15
    assert _advisory_locks(engine) == 1
    assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    _assert_reset_once(engine, tenant_id)            # the new leader's catch-up finds nothing to do
    bots.assert_each_answers("start.welcome_back", log_path)
    bots.assert_one_poller_each(since=time.time())


class Bots:
    """The seeded bots as the sandbox sees them."""

    def __init__(self, sandbox, bot_ids):
        self.sandbox, self.bot_ids = sandbox, bot_ids

    def assert_each_answers(self, key, log_path):
        expected = t("en", key, name="Tester")
        for bot_id in self.bot_ids:
            self.sandbox.say(bot_id, USER_ID, "/start")
        for bot_id in self.bot_ids:
            answered = wait_for(lambda: expected in self.sandbox.bot_texts(bot_id, USER_ID), timeout=15)
            assert answered, f"bot {bot_id} did not answer {key}\n{log_path.read_text()[-4000:]}"

    def assert_one_poller_each(self, since):
        """Polls keep coming and never overlap: no getUpdates since `since` was answered 409."""
        time.sleep(3)                                 # deliberate: more than a long-poll round (2 s) of every worker
        for bot_id in self.bot_ids:
            polls = [c for c in self.sandbox.calls(bot_id, "getUpdates") if c["at"] >= since]
            assert polls, f"bot {bot_id}: nobody polls"
            assert [c for c in polls if c.get("error_code")] == [], f"bot {bot_id}: a second poller"


def _assert_reset_once(engine, tenant_id):
    """The daily reset ran exactly once (it rewrites no member row: counters carry their day, issue 13)."""
    def resets():
        with engine.connect() as conn:
            return conn.scalar(sa.text("SELECT count(*) FROM audit_logs WHERE tenant_id = :t "
                                       "AND action = 'jobs.daily_reset'"), {"t": tenant_id})
    assert wait_for(lambda: resets() >= 1, timeout=10)
    time.sleep(2)                                     # deliberate: a second leader's tick would have written by now
    assert resets() == 1
