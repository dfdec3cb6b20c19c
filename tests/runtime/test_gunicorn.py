"""Real gunicorn, 3 workers, on a fresh Postgres database: one leader, and a new one when it is killed."""
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

from tests import pg
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _env(url: str) -> dict:
    return {**os.environ, "BOTFLEET_ENV": "production", "DATABASE_URL": url, "SECRET_KEY": "gunicorn-test",
            "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(), "GUNICORN_BIND": "127.0.0.1:0",
            "WEB_CONCURRENCY": "3", "GUNICORN_THREADS": "2", "GUNICORN_ACCESS_LOG": "",
            "RUNTIME_INTERVAL_SECONDS": "1"}


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


def test_three_workers_one_leader_and_a_takeover_after_kill_9(database, tmp_path):
    url, engine = database
    env = _env(url)
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    tenant_id = _seed_due_tenant(engine)
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"], cwd=ROOT, env=env,
                                  stdout=log, stderr=subprocess.STDOUT)
    try:
        _check_one_leader_then_takeover(engine, server, log_path, tenant_id)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()


def _check_one_leader_then_takeover(engine, server, log_path, tenant_id):
    first = wait_for(lambda: _leader(engine) or server.poll() is not None, timeout=30)
    assert server.poll() is None, log_path.read_text()
    assert first, log_path.read_text()
    port = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log_path.read_text()).group(1)
    workers = {int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", log_path.read_text())}
    assert len(workers) == 3 and first["pid"] in workers
    time.sleep(3)                                    # every worker has had several tries at the lock
    assert _advisory_locks(engine) == 1
    assert log_path.read_text().count("this process is the leader") == 1
    assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()["leader"]["pid"] == first["pid"]
    _assert_reset_once(engine, tenant_id)

    os.kill(first["pid"], signal.SIGKILL)
    killed_at = time.monotonic()
    second = wait_for(lambda: (beat := _leader(engine)) and beat["pid"] != first["pid"] and beat, timeout=15)
    assert second, f"no new leader within 15 s\n{log_path.read_text()}"
    assert time.monotonic() - killed_at < 15
    assert _advisory_locks(engine) == 1
    assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    _assert_reset_once(engine, tenant_id)            # the new leader's catch-up finds nothing to do


def _assert_reset_once(engine, tenant_id):
    def reset_done():
        with engine.connect() as conn:
            return conn.scalar(sa.text("SELECT xp_today FROM members WHERE tenant_id = :t"), {"t": tenant_id}) == 0
    assert wait_for(reset_done, timeout=10)
    with engine.connect() as conn:
        resets = conn.scalar(sa.text(
            "SELECT count(*) FROM audit_logs WHERE tenant_id = :t AND action = 'jobs.daily_reset'"), {"t": tenant_id})
    assert resets == 1
