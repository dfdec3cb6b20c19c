"""Telegram's limits as the outbox keeps them: a send over a limit is rescheduled (never slept on), a 429
waits its retry_after, and two `flask worker` processes together never send more than 30 a second for a bot
(measured on the sandbox's own timestamps)."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.models import OutboxMessage
from app.models.types import utcnow
from app.unit_of_work import unit_of_work
from app.worker import dispatch
from app.worker.broker import BrokerDispatcher, sweep
from bots import outbound
from tests.bots.conftest import PNG
from tests.distributed import TRANSIT_ALLOWANCE, most_in_window, redis_namespace, stop_workers
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/12")


@pytest.fixture
def limits(app, monkeypatch):
    """limits(per_bot=..., per_chat=...): this app's Telegram limits rebuilt with these figures."""
    def configure(**figures):
        for name, value in figures.items():
            monkeypatch.setitem(app.config, f"TELEGRAM_LIMIT_{name.upper()}", value)
        app.extensions.pop("telegram_limits", None)
    yield configure
    app.extensions.pop("telegram_limits", None)  # the next test builds them from the restored config


def chats(fleet, bot, count, first=8_100_000) -> list[int]:
    ids = [first + n for n in range(count)]
    for chat_id in ids:  # users who started the bot: Telegram refuses other chats
        fleet.post("/sandbox/chats", {"chat_id": chat_id, "bot_id": bot.telegram_bot_id})
    return ids


def sends(fleet, bot) -> list[dict]:
    calls = fleet.get("/sandbox/calls", bot_id=bot.telegram_bot_id)["calls"]
    return [c for c in calls if c["method"].lower() == "sendmessage" and not c.get("error_code")]


def test_sends_over_the_bots_limit_are_rescheduled_not_slept_on(db, make, fleet, limits, drain_outbox):
    limits(per_bot="5/minute")
    bot = make.bot(make.tenant())
    fleet.add(bot)
    for n, chat_id in enumerate(chats(fleet, bot, 8)):
        outbound.send_later(bot, chat_id, f"news #{n}", key=f"news:{n}")
    db.session.commit()

    rows = drain_outbox()

    assert [r.status for r in rows].count("done") == 5 and len(sends(fleet, bot)) == 5
    held = [r for r in rows if r.status == "pending"]
    assert len(held) == 3
    for row in held:  # due again when the minute's oldest send leaves the window; a hold is no failed attempt
        assert timedelta(seconds=50) < row.not_before - utcnow() < timedelta(seconds=62)
        assert row.attempts == 0 and "Telegram send limits" in row.last_error
    assert drain_outbox() == []  # nothing due yet


def test_a_second_message_to_one_chat_waits_for_the_chats_limit(db, make, fleet, limits, drain_outbox):
    limits(per_chat="1/minute")
    bot = make.bot(make.tenant())
    fleet.add(bot)
    [chat_id, other] = chats(fleet, bot, 2)
    outbound.send_later(bot, chat_id, "first", key="c:1")
    outbound.send_later(bot, chat_id, "second", key="c:2")
    outbound.send_later(bot, other, "elsewhere", key="c:3")
    db.session.commit()

    statuses = {r.key: r.status for r in drain_outbox()}

    assert statuses == {"c:1": "done", "c:2": "pending", "c:3": "done"}
    assert [c["params"]["text"] for c in sends(fleet, bot)] == ["first", "elsewhere"]


def test_a_429_reschedules_after_retry_after_without_counting_a_failure(db, make, fleet, drain_outbox):
    bot = make.bot(make.tenant())
    fleet.add(bot)
    [chat_id] = chats(fleet, bot, 1)
    fleet.post("/sandbox/faults", {"bot_id": bot.telegram_bot_id, "method": "sendMessage", "error_code": 429,
                                   "retry_after": 7, "count": 1})
    outbound.send_later(bot, chat_id, "hello", key="hello")
    db.session.commit()

    [row] = drain_outbox()

    assert row.status == "pending" and row.attempts == 0
    assert timedelta(seconds=6) < row.not_before - utcnow() <= timedelta(seconds=7)
    assert drain_outbox() == []
    [row] = drain_outbox(ahead=timedelta(seconds=8))
    assert row.status == "done" and [c["params"]["text"] for c in sends(fleet, bot)] == ["hello"]


@pytest.fixture
def redis_queue():
    yield from redis_namespace(REDIS_URL)


def start_worker(app, database_url, namespace):
    env = {**os.environ, "BOTFLEET_ENV": "production", "DATABASE_URL": database_url, "SECRET_KEY": "w",
           "TOKEN_ENCRYPTION_KEY": app.config["TOKEN_ENCRYPTION_KEY"], "RUNTIME_ENABLED": "0",
           "TELEGRAM_API_URL": app.config["TELEGRAM_API_URL"], "QUEUE_URL": REDIS_URL,
           "OUTBOX_QUEUE_NAMESPACE": namespace, "OUTBOX_LEASE_SECONDS": "5"}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--threads", "4"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_most_in_window_counts_a_moving_window():
    assert most_in_window([0.0, 0.5, 0.99, 1.0, 1.2]) == 4
    assert most_in_window([0.0, 1.0, 2.0]) == 1
    assert most_in_window([0.0, 0.5, 0.9], 0.8) == 2


@pytest.mark.slow
def test_two_workers_together_never_send_more_than_30_a_second_for_a_bot(app, db, make, fleet, database_url,
                                                                       redis_queue, monkeypatch):
    count = 150
    bot = make.bot(make.tenant())
    fleet.add(bot)
    db.session.commit()
    monkeypatch.setitem(app.config, "QUEUE_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "OUTBOX_QUEUE_NAMESPACE", redis_queue)
    monkeypatch.setitem(app.config, "OUTBOX_POLL_SECONDS", 0.2)
    monkeypatch.delitem(app.extensions, "outbox_broker", raising=False)  # built from this test's namespace
    previous = dispatch.install(app, BrokerDispatcher(app))
    workers = [start_worker(app, database_url, redis_queue) for _ in range(2)]
    ids = chats(fleet, bot, count)
    try:
        with unit_of_work():  # committed, then every row id goes to the broker at once
            for n, chat_id in enumerate(ids):
                outbound.send_later(bot, chat_id, f"news #{n}", key=f"news:{n}")

        def all_done():
            sweep(app)  # the runtime's sweeper: rows held back for the limit are handed out again when due
            db.session.rollback()
            return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                                     .where(OutboxMessage.status == "done")) == count
        wait_until(all_done, 90, interval=0.2, message="every row delivered")
    finally:
        dispatch.install(app, previous)
        app.extensions.pop("outbox_broker").close()
        stop_workers(workers)
    moments = [c["at"] for c in sends(fleet, bot)]
    assert len(moments) == count
    assert most_in_window(moments, 1.0 - TRANSIT_ALLOWANCE) <= 30


def test_a_queued_upload_keeps_its_bytes_through_json(db, make, fleet, drain_outbox):
    """A reply with an uploaded photo (the service QR) that meets a 429 waits in the outbox with its bytes."""
    import json

    bot = make.bot(make.tenant())
    fleet.add(bot)
    [chat_id] = chats(fleet, bot, 1)
    call = json.loads(json.dumps(outbound.bot_call("send_photo", chat_id=chat_id, photo=PNG, caption="QR")))
    outbound.enqueue_calls(bot.id, bot.tenant_id, [call], key="qr")
    db.session.commit()

    [row] = drain_outbox()

    assert row.status == "done"
    [message] = [m for m in fleet.get(f"/sandbox/chats/{chat_id}/messages", bot_id=bot.telegram_bot_id)["messages"]
                 if m["from_bot"]]
    assert message["photo"] and message["caption"] == "QR"
