"""The in-process rate limit storage: the same limits as limits' MemoryStorage, without a timer thread per hit."""
from __future__ import annotations

import time

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from app import rate_limit_storage
from app.api.limits import limiter


@pytest.fixture
def storage_and_timers(monkeypatch):
    """A new swept storage, and every threading.Timer limits' memory storage starts after its creation."""
    storage, started = storage_from_string(rate_limit_storage.URI), []
    storage.timer.join()  # the one timer the constructor starts (10 ms); limits starts another when it is done

    class CountedTimer:
        def __init__(self, *args, **kwargs):
            started.append(args)

        def start(self):
            pass

        def is_alive(self):
            return False

    monkeypatch.setattr("limits.storage.memory.threading.Timer", CountedTimer)
    return storage, started


def test_the_api_counts_in_swept_memory_without_redis(app):
    if app.config.get("REDIS_URL"):
        pytest.skip("REDIS_URL is set: the API counts in Redis")
    assert app.config["RATELIMIT_STORAGE_URI"] == rate_limit_storage.URI
    assert isinstance(limiter.storage, rate_limit_storage.SweptMemoryStorage)


@pytest.mark.parametrize("strategy", [FixedWindowRateLimiter, MovingWindowRateLimiter])
def test_limits_hold_and_no_thread_is_started_per_hit(strategy, storage_and_timers):
    storage, timers = storage_and_timers
    rate, two_per_second = strategy(storage), parse("2/second")
    assert [rate.hit(two_per_second, "token") for _ in range(3)] == [True, True, False]
    assert rate.hit(two_per_second, "another token")
    assert timers == []


def test_expired_counters_are_swept_at_the_next_hit_after_a_second(storage_and_timers):
    storage, timers = storage_and_timers
    fixed, moving, one_per_second = FixedWindowRateLimiter(storage), MovingWindowRateLimiter(storage), parse("1/second")
    assert fixed.hit(one_per_second, "a") and moving.hit(one_per_second, "b")
    time.sleep(1.1)  # deliberately: both windows (one second) expire and the next sweep is due
    assert fixed.hit(one_per_second, "c")
    assert not any("/a/" in key for key in storage.storage)
    assert [events for key, events in storage.events.items() if "/b/" in key] == [[]]
    assert timers == []
