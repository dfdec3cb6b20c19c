"""The one place tests wait on a condition (an event), instead of sleeping a fixed time.

- `wait_for(predicate, timeout)`: the first truthy result of predicate(), or None after timeout (the caller
  asserts, with its own message);
- `wait_until(predicate, timeout)`: the same, but fails the test after timeout;
- `eventually(read, expected)`: read() once it returns expected, else its last value (for `assert ... ==`);
- `wait_while_progressing(read, done, progress, stall)`: read() until done, failing only after `stall` seconds
  without progress (long runs whose length scales with their size).
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


def wait_while_progressing(read, done, progress, stall: float, interval=0.5, message="condition"):
    """Poll `read()` until `done(value)`; return that value. Fail only when `progress(value)` has not changed for
    `stall` seconds: a slow run that keeps moving is waited for as long as it moves (its total time scales with
    the work and the rate the machine gives it), a stuck one fails `stall` seconds after its last step."""
    last, moved = object(), time.monotonic()
    while True:
        value = read()
        if done(value):
            return value
        step = progress(value)
        if step != last:
            last, moved = step, time.monotonic()
        elif time.monotonic() - moved >= stall:
            raise AssertionError(f"no progress for {stall} s (stuck at {step!r}) waiting for {message}")
        time.sleep(interval)
