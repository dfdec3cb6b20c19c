"""Leader election inside one process: one leader, a replacement when it goes, a heartbeat others read."""
from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from app.runtime import Runtime, heartbeat
from app.runtime.leader import LOCK_KEY, leader_lock_for
from tests.waiting import wait_for


class Recorder:
    """A stand-in component that records its starts and stops."""

    name = "recorder"

    def __init__(self):
        self.events = []

    def start(self):
        self.events.append("start")

    def stop(self):
        self.events.append("stop")

    @property
    def running(self):
        return bool(self.events) and self.events[-1] == "start"


def _runtime(app):
    return Runtime(app, components=[Recorder()], interval=0.2)



@pytest.fixture
def runtimes(app, db):
    started = []
    def start(n):
        started.extend(_runtime(app).start() for _ in range(n))
        return started[-n:]
    yield start
    for rt in started:
        rt.stop()


def test_exactly_one_of_three_leads_and_runs_the_components(runtimes, db):
    trio = runtimes(3)
    assert wait_for(lambda: any(rt.is_leader for rt in trio), timeout=10)
    time.sleep(1)                 # deliberate: the others get several ticks (0.2 s) at the lock, and must fail
    leaders = [rt for rt in trio if rt.is_leader]
    assert len(leaders) == 1
    assert leaders[0].components[0].events == ["start"]
    assert all(rt.components[0].events == [] for rt in trio if rt is not leaders[0])
    beat = heartbeat.read()
    assert beat["fresh"] and beat["components"] == ["recorder"]


def test_when_the_leader_stops_another_takes_over(runtimes):
    trio = runtimes(3)
    assert wait_for(lambda: any(rt.is_leader for rt in trio), timeout=10)
    [old] = [rt for rt in trio if rt.is_leader]
    old.stop()
    assert old.components[0].events == ["start", "stop"]
    assert wait_for(lambda: any(rt.is_leader for rt in trio if rt is not old), timeout=5)
    assert sum(rt.is_leader for rt in trio) == 1


def test_one_step_at_a_time_is_deterministic(app, db):
    first, second = _runtime(app), _runtime(app)
    try:
        first.step()
        second.step()
        assert (first.is_leader, second.is_leader) == (True, False)
        first.step()                                   # keeps the lead and beats
        assert first.is_leader and heartbeat.read()["fresh"]
    finally:
        first.stop()
        second.stop()
    second = _runtime(app)
    second.step()
    assert second.is_leader
    second.stop()


@pytest.mark.postgres
def test_a_leader_whose_lock_connection_dies_is_replaced(app, db):
    first, second = _runtime(app), _runtime(app)
    try:
        first.step()
        assert first.is_leader
        with db.engine.connect() as conn:      # what a crash or network cut does to the lock's session
            killed = conn.scalar(sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"))
        assert killed == 1

        def lock_released() -> bool:  # pg_terminate_backend only signals: the backend frees the lock as it exits
            with db.engine.connect() as conn:
                return not conn.scalar(sa.text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"))
        assert wait_for(lock_released, 10)
        second.step()
        assert second.is_leader
        first.step()
        assert not first.is_leader and first.components[0].events == ["start", "stop"]
    finally:
        first.stop()
        second.stop()


def test_the_lock_matches_the_backend(app, backend):
    lock = leader_lock_for(app)
    try:
        if backend == "postgres":
            assert lock.key == LOCK_KEY
        else:
            assert str(lock.path).endswith(".leader.lock")
    finally:
        lock.close()


class OutageLock:
    """A lock whose database can be cut off: then every attempt fails as unreachable."""

    def __init__(self):
        self.cut_off = self.unreachable = False
        self.held = False

    def try_acquire(self):
        self.unreachable = self.cut_off
        self.held = not self.cut_off
        return self.held

    def still_held(self):
        self.held = self.held and not self.cut_off
        return self.held

    def release(self):
        self.held = False

    close = release


def test_a_leader_cut_off_from_the_database_keeps_running_for_the_grace_only(app, db):
    lock = OutageLock()
    runtime = Runtime(app, lock=lock, components=[Recorder()], interval=0.2)
    runtime.outage_grace = 0.5
    events = runtime.components[0].events
    runtime.step()
    lock.cut_off = True
    runtime.step()
    assert runtime.is_leader and events == ["start"]          # an outage: nobody else can lead either
    lock.cut_off = False
    runtime.step()
    assert runtime.is_leader and lock.held and events == ["start"]   # the lock taken back, nothing restarted
    lock.cut_off = True
    runtime.step()
    time.sleep(0.6)               # deliberate: the outage outlasts the grace (0.5 s)
    runtime.step()
    assert not runtime.is_leader and events == ["start", "stop"]
    runtime.stop()
