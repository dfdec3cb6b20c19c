"""Injected faults and per-bot send rate limits."""

import math
from collections import deque
from dataclasses import dataclass

from .errors import ApiError

#: Methods that count as "sending a message" for the broadcast rate limit.
SEND_METHODS = {"forwardmessage", "copymessage"}
#: send* methods that send no message, so Telegram does not count them.
NOT_SEND_METHODS = {"sendchataction"}


def is_send_method(method):
    """Tell whether a (lower-case) method name sends a message."""
    if method in NOT_SEND_METHODS:
        return False
    return method.startswith("send") or method in SEND_METHODS


@dataclass
class Fault:
    """The next `remaining` calls of one method fail with this error."""

    error_code: int
    description: str | None
    retry_after: int | None
    remaining: int

    def to_error(self):
        """Return the ApiError to answer with."""
        return ApiError(self.error_code, self.description, self.retry_after)


class FaultPlan:
    """Armed faults of one bot, per lower-case method name, consumed in order."""

    def __init__(self):
        self._faults = {}

    def arm(self, method, fault):
        """Add a fault for a method after those already armed."""
        self._faults.setdefault(method.lower(), deque()).append(fault)

    def take(self, method):
        """Consume one failure for this method and return its ApiError, or None."""
        queue = self._faults.get(method.lower())
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.popleft()
        return fault.to_error()


class RateLimiter:
    """A sliding-window limit of `per_second` sends, answering 429 above it."""

    def __init__(self, per_second):
        self.capacity = max(1, int(per_second))
        self.window = self.capacity / per_second
        self._sent = deque()

    def admit(self, now):
        """Count one send at `now`, or raise 429 with retry_after when over the limit."""
        while self._sent and self._sent[0] <= now - self.window:
            self._sent.popleft()
        if len(self._sent) >= self.capacity:
            retry_after = max(1, math.ceil(self._sent[0] + self.window - now))
            raise ApiError(429, retry_after=retry_after)
        self._sent.append(now)
