"""Helpers for the tests that run `flask worker` processes on a real broker (Redis, RabbitMQ)."""
from __future__ import annotations

import os
import signal
import uuid

import pytest


def unavailable(what: str, url: str, exc: Exception):
    """A broker the test needs is not there: skip, but fail in CI (CI=true)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs {what} at {url}: {exc}")
    pytest.skip(f"{what} unavailable at {url}: {exc}")


def require_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        unavailable("Redis", url, exc)


def delete_keys(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def redis_namespace(url: str, prefix: str = "botfleet-test-"):
    """For a fixture to `yield from`: a unique key prefix on Redis at `url`, its keys deleted afterwards."""
    require_redis(url)
    namespace = f"{prefix}{uuid.uuid4().hex[:8]}"
    yield namespace
    delete_keys(url, namespace)


def stop_workers(workers) -> None:
    """SIGTERM each worker process still running and wait for it to finish."""
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(20)


#: A send is counted when a worker is about to make it and timestamped by the sandbox when it arrives; on
#: this loaded 2-core machine a thread can be descheduled between the two for well over 100 ms, which can
#: move a send into the next second as the sandbox sees it. The count over the sandbox's timestamps is
#: therefore taken over windows this much shorter than a second (measured worst case: 0.87 s for 30 sends).
TRANSIT_ALLOWANCE = 0.2


def most_in_window(moments: list[float], seconds: float = 1.0) -> int:
    """The largest number of `moments` inside any window of `seconds`."""
    moments, most, start = sorted(moments), 0, 0
    for end, moment in enumerate(moments):
        while moment - moments[start] >= seconds:
            start += 1
        most = max(most, end - start + 1)
    return most
