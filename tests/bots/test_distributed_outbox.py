"""QUEUE_URL=redis://…: two `flask worker` processes deliver the outbox; one is SIGKILLed midway and every
message still arrives exactly once. Needs Redis (127.0.0.1:6379, DB 1); in CI (CI=true) its absence fails."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.models import OutboxMessage
from app.unit_of_work import unit_of_work
from app.worker import dispatch
from app.worker.broker import BrokerDispatcher, sweep
from tests.engine.conftest import wait_until

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
CHATS = 120


@pytest.fixture
def redis_queue():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs Redis at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis unavailable at {REDIS_URL}: {exc}")
    namespace = f"botfleet-test-{uuid.uuid4().hex[:8]}"
    yield namespace
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{namespace}*"):
        client.delete(key)


def start_worker(app, database_url, namespace):
    env = {**os.environ, "BOTFLEET_ENV": "production", "DATABASE_URL": database_url, "SECRET_KEY": "w",
           "TOKEN_ENCRYPTION_KEY": app.config["TOKEN_ENCRYPTION_KEY"], "RUNTIME_ENABLED": "0",
           "TELEGRAM_API_URL": app.config["TELEGRAM_API_URL"], "QUEUE_URL": REDIS_URL,
           "OUTBOX_QUEUE_NAMESPACE": namespace, "OUTBOX_LEASE_SECONDS": "3"}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--threads", "3"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def done_count(db) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.status == "done"))


@pytest.mark.slow
def test_two_workers_one_killed_midway_every_message_exactly_once(app, db, make, fleet, database_url,
                                                                   redis_queue, monkeypatch):
    from bots import outbound

    bot = make.bot(make.tenant())
    fleet.add(bot)
    db.session.commit()
    monkeypatch.setitem(app.config, "QUEUE_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "OUTBOX_QUEUE_NAMESPACE", redis_queue)
    monkeypatch.setitem(app.config, "OUTBOX_LEASE_SECONDS", 3)
    previous = dispatch.install(app, BrokerDispatcher(app))
    workers = [start_worker(app, database_url, redis_queue) for _ in range(2)]
    for n in range(CHATS):  # users who wrote to the bot once: Telegram refuses other chats ("chat not found")
        fleet.post("/sandbox/chats", {"chat_id": 7_000_000 + n, "bot_id": bot.telegram_bot_id})
    try:
        with unit_of_work():  # committed, then every row id goes to the broker
            for n in range(CHATS):
                outbound.send_later(bot, 7_000_000 + n, f"news #{n}", key=f"news:{n}")
        wait_until(lambda: done_count(db) >= CHATS // 4, 60, message="a quarter delivered")
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(10)

        def all_done():
            sweep(app)  # what the runtime's sweeper does: rows whose worker died are handed out again
            return done_count(db) == CHATS
        wait_until(all_done, 90, interval=0.5, message="every row delivered")
    finally:
        dispatch.install(app, previous)
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(20)
    texts = Counter()
    for n in range(CHATS):
        messages = fleet.get(f"/sandbox/chats/{7_000_000 + n}/messages", bot_id=bot.telegram_bot_id)["messages"]
        texts.update(m["text"] for m in messages if m["from_bot"])
    assert set(texts) == {f"news #{n}" for n in range(CHATS)}  # every message arrived
    # Once each, but for the documented window (docs/outbox.md): a send Telegram accepted in the instant
    # before the killed worker recorded it is sent again after its lease. At most its 3 threads' rows.
    twice = {text: count for text, count in texts.items() if count > 1}
    assert len(twice) <= 3 and all(count == 2 for count in twice.values()), twice

