"""QUEUE_URL=redis://… and amqp://…: two `flask worker` processes deliver the outbox; one is SIGKILLed midway and
every message still arrives exactly once. Needs Redis (127.0.0.1:6379, DB 1) and RabbitMQ (127.0.0.1:5672,
guest/guest); in CI (CI=true) the absence of either fails the run."""
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
from tests.distributed import delete_keys, require_redis, stop_workers, unavailable
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
AMQP_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672")
CHATS = 120


def _redis_queue(namespace: str):
    require_redis(REDIS_URL)
    yield {"QUEUE_URL": REDIS_URL, "OUTBOX_QUEUE_NAMESPACE": namespace}
    delete_keys(REDIS_URL, namespace)


def _amqp_queue(namespace: str):
    """A queue of its own on RabbitMQ (Dramatiq adds .DQ and .XQ beside it), deleted afterwards; Telegram's
    limits are counted in Redis (an amqp:// queue needs REDIS_URL)."""
    import pika

    parameters = pika.URLParameters(AMQP_URL)
    parameters.socket_timeout = parameters.blocked_connection_timeout = 3
    try:
        pika.BlockingConnection(parameters).close()
    except pika.exceptions.AMQPError as exc:
        unavailable("RabbitMQ", AMQP_URL, exc)
    yield {"QUEUE_URL": AMQP_URL, "OUTBOX_QUEUE_NAME": namespace, "OUTBOX_QUEUE_NAMESPACE": namespace,
           "REDIS_URL": REDIS_URL}
    connection = pika.BlockingConnection(parameters)
    channel = connection.channel()
    for name in (namespace, f"{namespace}.DQ", f"{namespace}.XQ"):
        channel.queue_delete(queue=name)
    connection.close()
    delete_keys(REDIS_URL, namespace)


@pytest.fixture(params=["redis", "amqp"])
def queue(request, app, monkeypatch):
    """The broker's settings (QUEUE_URL, a unique queue name/namespace), applied to this app for the test."""
    namespace = f"botfleet-test-{uuid.uuid4().hex[:8]}"
    make = _redis_queue if request.param == "redis" else _amqp_queue
    settings = make(namespace)
    config = next(settings)
    for name, value in config.items():
        monkeypatch.setitem(app.config, name, value)
    app.extensions.pop("outbox_broker", None)  # built from this test's QUEUE_URL
    app.extensions.pop("telegram_limits", None)
    yield config
    broker = app.extensions.pop("outbox_broker", None)
    if broker is not None:
        broker.close()
    app.extensions.pop("telegram_limits", None)
    next(settings, None)


def start_worker(app, database_url, queue):
    env = {**os.environ, "BOTFLEET_ENV": "production", "DATABASE_URL": database_url, "SECRET_KEY": "w",
           "TOKEN_ENCRYPTION_KEY": app.config["TOKEN_ENCRYPTION_KEY"], "RUNTIME_ENABLED": "0",
           "TELEGRAM_API_URL": app.config["TELEGRAM_API_URL"], "OUTBOX_LEASE_SECONDS": "3", **queue}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--threads", "3"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def done_count(db) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.status == "done"))


@pytest.mark.slow
def test_two_workers_one_killed_midway_every_message_exactly_once(app, db, make, fleet, database_url, queue,
                                                                   monkeypatch):
    from bots import outbound

    bot = make.bot(make.tenant())
    fleet.add(bot)
    db.session.commit()
    monkeypatch.setitem(app.config, "OUTBOX_LEASE_SECONDS", 3)
    previous = dispatch.install(app, BrokerDispatcher(app))
    workers = [start_worker(app, database_url, queue) for _ in range(2)]
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
        stop_workers(workers)
    texts = Counter()
    for n in range(CHATS):
        messages = fleet.get(f"/sandbox/chats/{7_000_000 + n}/messages", bot_id=bot.telegram_bot_id)["messages"]
        texts.update(m["text"] for m in messages if m["from_bot"])
    assert set(texts) == {f"news #{n}" for n in range(CHATS)}  # every message arrived
    # Once each, but for the documented window (docs/outbox.md): a send Telegram accepted in the instant
    # before the killed worker recorded it is sent again after its lease. At most its 3 threads' rows.
    twice = {text: count for text, count in texts.items() if count > 1}
    assert len(twice) <= 3 and all(count == 2 for count in twice.values()), twice

