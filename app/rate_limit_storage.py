"""The in-process rate limit storage (no REDIS_URL): limits' memory storage without a thread per hit.

limits' MemoryStorage drops expired counters from a `threading.Timer(0.01)` that it starts again on almost
every hit once the previous one has ended: under the API's steady traffic that is a new thread per request,
and the request waits until the thread has started (a GIL hand-over; ~13% of an API request in a profile).
Neither limits nor Flask-Limiter has a setting for it. Counters are already checked for expiry when read,
so this storage sweeps expired ones in the calling thread at most once a second instead; the limits it
enforces are the same. Registered under the URI scheme ``swept-memory://``.
"""
from __future__ import annotations

import time

from limits.storage import MemoryStorage

URI = "swept-memory://"
SWEEP_SECONDS = 1.0


class SweptMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = ["swept-memory"]  # limits registers subclasses by their scheme
    _next_sweep = 0.0

    # MemoryStorage calls self.__schedule_expiry() before every change; its name is mangled to this one.
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_SECONDS
            self._MemoryStorage__expire_events()
