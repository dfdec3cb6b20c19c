"""The one place tests wait on a condition (an event), instead of sleeping a fixed time.

- `wait_for(predicate, timeout)`: the first truthy result of predicate(), or None after timeout (the caller
  asserts, with its own message);
- `wait_until(predicate, timeout)`: the same, but fails the test after timeout;
- `eventually(read, expected)`: read() once it returns expected, else its last value (for `assert ... ==`).
"""
from __future__ import annotations

import time


def wait_for(predicate, timeout: float, every: float = 0.05):
    """The first truthy result of `predicate()` within `timeout` seconds, else None."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            return None
        time.sleep(every)


def wait_until(predicate, timeout=10.0, interval=0.05, message="condition"):
    """Poll predicate until it returns something truthy; return that, or fail after timeout."""
    result = wait_for(predicate, timeout, interval)
    if not result:
        raise AssertionError(f"timed out after {timeout} s waiting for {message}")
    return result


def eventually(read, expected, timeout=5.0, every=0.02):
    """read()'s value once it equals expected (within timeout), else its last value."""
    deadline = time.monotonic() + timeout
    while (value := read()) != expected and time.monotonic() < deadline:
        time.sleep(every)
    return value
