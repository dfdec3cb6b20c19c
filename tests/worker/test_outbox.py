"""The outbox: written in the caller's transaction, delivered after commit, at least once, effect once."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.models import OutboxMessage, Tenant
from app.models.types import utcnow
from app.services import outbox
from app.unit_of_work import unit_of_work
from app.worker import delivery, dispatch
from app.worker.pool import Pool
from tests.waiting import wait_for

#: What the test handler does with each payload["do"]: ok, retry, permanent, fail.
calls: list[dict] = []


@outbox.handler("test.effect")
def _effect(message):
    calls.append(dict(message.payload, id=message.id))
    action = message.payload.get("do", "ok")
    if action == "retry":
        raise outbox.Retry(30, "asked to wait")
    if action == "permanent":
        raise outbox.Permanent("no such chat")
    if action == "fail":
        raise RuntimeError("Telegram is down")


@pytest.fixture(autouse=True)
def no_calls():
    calls.clear()
    yield
    calls.clear()


def enqueue(key: str, **payload) -> OutboxMessage:
    return outbox.enqueue("test.effect", payload, tenant_id=None, key=key)


def row(db, key: str) -> OutboxMessage:
    db.session.expire_all()
    return db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.key == key)).one()


def test_the_same_key_twice_is_one_row(db, drain_outbox):
    first = enqueue("k1", n=1)
    again = enqueue("k1", n=2)
    db.session.commit()
    assert again.id == first.id and again.payload == {"n": 1}
    assert [m.status for m in drain_outbox()] == ["done"]
    assert [c["n"] for c in calls] == [1]


def test_nothing_is_sent_before_commit_and_nothing_after_rollback(db, drain_outbox):
    with pytest.raises(ZeroDivisionError):
        with unit_of_work():
            enqueue("rolled-back")
            1 / 0
    assert drain_outbox() == [] and calls == []
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_a_commit_that_fails_sends_nothing(db, make, drain_outbox):
    """The decision's commit is refused (here: a unique key broken at flush time) → no row, no send."""
    tenant = make.tenant()
    db.session.commit()
    with pytest.raises(sa.exc.IntegrityError):
        with unit_of_work():
            enqueue("decision", do="ok")
            db.session.add(Tenant(name="Twin", slug=tenant.slug))  # the same slug: the commit fails
    assert drain_outbox() == [] and calls == []


def test_retry_reschedules_without_counting_as_failure(db, drain_outbox):
    enqueue("r", do="retry")
    db.session.commit()
    [message] = drain_outbox()
    assert message.status == "pending" and message.last_error == "asked to wait"
    assert timedelta(seconds=25) < message.not_before - utcnow() <= timedelta(seconds=30)
    assert drain_outbox() == []  # not due yet
    assert [m.id for m in drain_outbox(ahead=timedelta(seconds=31))] == [message.id]


def test_permanent_is_dead_at_once(db, drain_outbox):
    enqueue("p", do="permanent")
    db.session.commit()
    [message] = drain_outbox()
    assert (message.status, message.last_error) == ("dead", "no such chat")


def test_failures_back_off_then_give_up(db, drain_outbox):
    enqueue("f", do="fail")
    db.session.commit()
    [message] = drain_outbox()
    assert message.status == "pending" and message.attempts == 1
    assert "Telegram is down" in message.last_error
    assert timedelta(seconds=3) < message.not_before - utcnow() < timedelta(seconds=7)
    for _ in range(delivery.MAX_ATTEMPTS - 1):
        drain_outbox(ahead=timedelta(hours=2))
    assert row(db, "f").status == "dead" and len(calls) == delivery.MAX_ATTEMPTS


def test_a_row_whose_worker_died_is_delivered_again_after_its_lease(app, db, drain_outbox):
    enqueue("crash")
    db.session.commit()
    with app.app_context():
        assert len(delivery.claim(10)) == 1  # a worker claims it and dies before delivering
    assert drain_outbox() == []  # leased
    [message] = drain_outbox(ahead=timedelta(seconds=delivery.LEASE_SECONDS + 1))
    assert message.status == "done" and message.attempts == 2 and len(calls) == 1


def test_a_remembered_effect_is_not_repeated(app, db, drain_outbox):
    """A send records Telegram's message_id at once; a re-run after a crash before the ack skips it."""
    @outbox.handler("test.send")
    def send(message):
        if message.result and message.result.get("message_id"):
            return
        calls.append(message.id)
        delivery.remember(message, message_id=41)
        raise SystemExit  # the worker dies between the send and the ack

    outbox.enqueue("test.send", {}, tenant_id=None, key="send")
    db.session.commit()
    with pytest.raises(SystemExit):
        drain_outbox()
    [message] = drain_outbox(ahead=timedelta(seconds=delivery.LEASE_SECONDS + 1))
    assert message.status == "done" and message.result == {"message_id": 41} and len(calls) == 1


def test_the_pool_delivers_right_after_commit(app, db):
    delivered = threading.Event()

    @outbox.handler("test.signal")
    def signal(message):
        delivered.set()

    pool = Pool(app, size=2, poll_seconds=3600).start()  # no polling: only the commit's kick wakes it
    try:
        assert dispatch.dispatcher_of(app) is pool
        with app.app_context():
            with unit_of_work():
                outbox.enqueue("test.signal", {}, tenant_id=None, key="signal")
        assert delivered.wait(10)
        assert wait_for(lambda: row(db, "signal").status == "done", 10)
    finally:
        pool.stop()
    assert dispatch.dispatcher_of(app) is None


@pytest.mark.postgres
def test_two_claimers_never_take_the_same_row(app, db):
    for n in range(200):
        enqueue(f"many-{n}")
    db.session.commit()
    taken: list[list[int]] = [[], [], [], []]
    start = threading.Barrier(4)

    def claimer(mine: list[int]):
        start.wait()
        with app.app_context():
            while claimed := delivery.claim(7):
                mine.extend(claimed)
    threads = [threading.Thread(target=claimer, args=(mine,)) for mine in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    everything = [i for mine in taken for i in mine]
    assert len(everything) == len(set(everything)) == 200
    assert sum(1 for mine in taken if mine) > 1  # they really ran side by side


def test_flask_worker_needs_a_broker(runner, app, monkeypatch):
    monkeypatch.setitem(app.config, "QUEUE_URL", None)
    result = runner.invoke(args=["worker"])
    assert result.exit_code != 0 and "QUEUE_URL is not set" in result.output
