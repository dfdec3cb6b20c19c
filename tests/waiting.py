"""Polling for a condition in tests that watch threads and processes."""
from __future__ import annotations

import time


def wait_for(predicate, timeout: float, every: float = 0.1):
    """The first truthy result of `predicate()` within `timeout` seconds, else None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(every)
    return None
