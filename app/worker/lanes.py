"""The in-process pool's lanes: claimed rows of a batch kind that share a rate (a broadcast's sends through one bot,
`outbox.Lane`), kept in memory until their lane may go.

Handed to a thread as soon as they were claimed, a bot's sends whose window is full made the thread wait in the
handler for the bot's next slot (up to the handler's pause) while other bots' due sends, and the broadcast's pump,
waited behind it for a thread: ten bots through eight threads had about half of the threads waiting so, and every
slot a bot got late lowered its rate for good (a moving window frees a slot a window after the send that took it).
Here a lane's next rows (up to a batch) go to a thread only when the lane's `ready` says they may go within
LEAD_SECONDS (the handler's own wait covers that much), and one batch per lane at a time (its sends are counted when
their last bytes are written, so the next batch is asked for once the previous is done).
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from app.services import outbox

log = logging.getLogger(__name__)

#: A lane's rows go to a thread this long before `ready` says they may go: the thread's reads before its sends.
LEAD_SECONDS = 0.05
#: Rows kept longer than this go to a thread whatever `ready` says (the handler holds back what cannot go), so a
#: claimed row never sits in memory near the end of its lease.
MAX_WAIT_SECONDS = 10.0

Key = tuple[str, object]


def lane_ready(kind: str, value: object, count: int) -> float:
    """The registered lane's answer: seconds until `count` rows of lane `value` may go."""
    lane = outbox.lane_for(kind)
    return lane.ready(value, count) if lane is not None else 0.0


class Lanes:
    """Claimed rows per lane (kind, the payload's lane field), oldest first; thread-safe."""

    def __init__(self, batch: int, ready: Callable[[str, object, int], float] = lane_ready,
                 clock: Callable[[], float] = time.monotonic):
        self.batch = max(1, batch)
        self._ready, self._clock = ready, clock
        self._rows: dict[Key, deque[tuple[int, float]]] = {}  # in the order lanes are served
        self._gates: dict[Key, float] = {}
        self._busy: set[Key] = set()
        self._lock = threading.Lock()

    def add(self, kind: str, payload: dict | None, message_id: int) -> None:
        lane = outbox.lane_for(kind)
        key = (kind, (payload or {}).get(lane.field) if lane is not None else None)
        with self._lock:
            self._rows.setdefault(key, deque()).append((message_id, self._clock()))

    def __len__(self) -> int:
        with self._lock:
            return sum(len(rows) for rows in self._rows.values())

    def take(self, free: int) -> list[tuple[Key, list[int]]]:
        """Up to `free` batches that may go now, one per lane (each lane is then busy until `done`), lanes served in
        turn; a lane that may not go yet is asked again when it may."""
        chunks: list[tuple[Key, list[int]]] = []
        with self._lock:
            now = self._clock()
            for key in list(self._rows):
                if len(chunks) >= free:
                    break
                rows = self._rows[key]
                overdue = now - rows[0][1] > MAX_WAIT_SECONDS
                if key in self._busy or (self._gates.get(key, 0.0) > now and not overdue):
                    continue
                count = min(len(rows), self.batch)
                wait = 0.0 if key[1] is None or overdue else self._wait(key, count)
                if wait > LEAD_SECONDS:
                    self._gates[key] = now + wait - LEAD_SECONDS
                    continue
                self._gates.pop(key, None)
                chunks.append((key, [rows.popleft()[0] for _ in range(count)]))
                self._busy.add(key)
                del self._rows[key]
                if rows:  # to the end of the turn
                    self._rows[key] = rows
        return chunks

    def _wait(self, key: Key, count: int) -> float:
        try:
            return self._ready(key[0], key[1], count)
        except Exception:  # noqa: BLE001 - e.g. the limits' Redis is down: the handler decides
            log.warning("outbox lanes: ready(%s) failed", key, exc_info=True)
            return 0.0

    def done(self, key: Key) -> None:
        """The lane's batch is handled: its next may be asked for."""
        with self._lock:
            self._busy.discard(key)

    def next_in(self) -> float | None:
        """Seconds until the earliest lane that waits for its time may go (None: none waits so)."""
        with self._lock:
            gates = [min(self._gates.get(key, 0.0), rows[0][1] + MAX_WAIT_SECONDS)
                     for key, rows in self._rows.items() if rows and key not in self._busy]
        return max(min(gates) - self._clock(), 0.0) if gates else None

    def drain(self) -> list[tuple[Key, list[int]]]:
        """Every row kept, in batches (the pool stops: the handler sends what may go and holds back the rest)."""
        with self._lock:
            chunks = [(key, [row[0] for row in list(rows)[i:i + self.batch]])
                      for key, rows in self._rows.items() for i in range(0, len(rows), self.batch)]
            self._rows.clear()
            self._gates.clear()
        return chunks
