"""A broadcast delivered by two `flask worker` processes on Redis, one SIGKILLed midway: everybody gets it exactly
once, and each bot stays within Telegram's 30 messages a second (the workers run the
production limits). Needs Redis (TEST_REDIS_URL, default DB 11 here); in CI its absence fails."""
from __future__ import annotations

import os
import signal
from collections import Counter

import pytest
import sqlalchemy as sa

from app.models import BotSession, Broadcast, BroadcastDelivery
from app.services import broadcasts
from app.services.broadcasts import Draft
from app.services.broadcasts.sending import UNCONFIRMED
from app.unit_of_work import unit_of_work
from app.worker import dispatch
from app.worker.broker import BrokerDispatcher, sweep
from tests.bots import test_distributed_outbox as distributed
from tests.distributed import TRANSIT_ALLOWANCE, most_in_window, redis_namespace, stop_workers
from tests.waiting import wait_until

MEMBERS_PER_BOT = 120


@pytest.fixture
def redis_queue(monkeypatch):
    """A unique namespace on Redis DB 11 (the suite's DB 1 belongs to the other distributed tests)."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
    monkeypatch.setattr(distributed, "REDIS_URL", url)
    yield from redis_namespace(url)


def _members(db, make, fleet, tenant, bot, count):
    members = [make.member(tenant, language_code="en") for _ in range(count)]
    for member in members:
        db.session.add(BotSession(tenant_id=tenant.id, member_id=member.id, bot_id=bot.id, session_data={},
                                  stats_data={}))
        fleet.post("/sandbox/chats", {"chat_id": member.telegram_id, "bot_id": bot.telegram_bot_id})
    db.session.commit()
    return members


def _status(db, broadcast_id) -> tuple[str, int]:
    db.session.rollback()
    sent = db.session.scalar(sa.select(sa.func.count()).where(BroadcastDelivery.broadcast_id == broadcast_id,
                                                              BroadcastDelivery.status == "sent"))
    return db.session.get(Broadcast, broadcast_id).status, sent


@pytest.mark.slow
@pytest.mark.postgres  # worker processes sharing one database: the shared Postgres of a real deployment
def test_a_broadcast_survives_a_killed_worker_once_each_within_telegrams_rate(app, db, make, fleet, database_url,
                                                                              redis_queue, monkeypatch):
    tenant = make.tenant()
    bots = [make.bot(tenant), make.bot(tenant)]
    for bot in bots:
        fleet.add(bot)
    members = {bot.id: _members(db, make, fleet, tenant, bot, MEMBERS_PER_BOT) for bot in bots}
    monkeypatch.setitem(app.config, "QUEUE_URL", distributed.REDIS_URL)
    monkeypatch.setitem(app.config, "OUTBOX_QUEUE_NAMESPACE", redis_queue)
    monkeypatch.setitem(app.config, "OUTBOX_LEASE_SECONDS", 3)
    previous = dispatch.install(app, BrokerDispatcher(app))
    queue = {"QUEUE_URL": distributed.REDIS_URL, "OUTBOX_QUEUE_NAMESPACE": redis_queue}
    workers = [distributed.start_worker(app, database_url, queue) for _ in range(2)]
    try:
        with unit_of_work():
            broadcast = broadcasts.confirm(broadcasts.compose(tenant, Draft(text="Flash sale",
                                                                            bot_ids=[b.id for b in bots])))
        broadcast_id = broadcast.id

        def sent_at_least(n):
            sweep(app)  # the runtime's sweeper: the pump's next round, rows held back by the rate limit
            return _status(db, broadcast_id)[1] >= n
        wait_until(lambda: sent_at_least(MEMBERS_PER_BOT // 2), 180, interval=0.2, message="a quarter sent")
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(10)
        wait_until(lambda: sent_at_least(0) and _status(db, broadcast_id)[0] == "done", 180, interval=0.3,
                   message="the broadcast done")
    finally:
        dispatch.install(app, previous)
        stop_workers(workers)

    received = Counter()
    for bot in bots:
        for member in members[bot.id]:
            messages = fleet.get(f"/sandbox/chats/{member.telegram_id}/messages",
                                 bot_id=bot.telegram_bot_id)["messages"]
            received[member.id] = sum(1 for m in messages if m["from_bot"])
    unconfirmed = set(db.session.scalars(sa.select(BroadcastDelivery.member_id).where(
        BroadcastDelivery.error == UNCONFIRMED)))
    # Exactly once: a delivery the kill left `sending` had its whole request with the sandbox (bots/committed_send.py).
    assert Counter(received.values()) == {1: 2 * MEMBERS_PER_BOT}, (Counter(received.values()), unconfirmed)
    final = db.session.get(Broadcast, broadcast_id)
    assert (final.sent_count, final.failed_count) == (2 * MEMBERS_PER_BOT, 0)
    for bot in bots:
        sends = [c["at"] for c in fleet.calls(bot.telegram_bot_id, "sendMessage") if not c["error_code"]]
        assert most_in_window(sends, 1.0 - TRANSIT_ALLOWANCE) <= 30, most_in_window(sends, 1.0 - TRANSIT_ALLOWANCE)
