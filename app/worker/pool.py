"""The in-process worker pool: threads that deliver outbox rows as they are committed or fall due.

One claimer thread claims due rows (woken by `kick` after a commit, when the earliest rescheduled row falls
due, or every POLL seconds for rows written by other processes) and hands each to a thread of a small executor.
Rows of a kind delivered in batches that form lanes (a broadcast's sends, one lane per bot) are kept in the pool's
lanes and handed to a thread a batch at a time when their lane may go (app/worker/lanes.py).
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from app.extensions import db
from app.models.types import utcnow
from app.services import outbox
from app.worker import delivery, dispatch, load_handlers
from app.worker.lanes import Lanes

log = logging.getLogger(__name__)

#: Claimed rows of the kinds delivered in batches kept in lanes, at most this many batches per thread.
LANE_BATCHES_PER_THREAD = 4


class Pool:
    def __init__(self, app: Flask, size: int | None = None, poll_seconds: float | None = None):
        self.app = app
        self.size = size or app.config.get("OUTBOX_WORKERS", 4)
        self.poll_seconds = poll_seconds or app.config.get("OUTBOX_POLL_SECONDS", 1.0)
        #: Rows a thread takes at once of a kind delivered in batches (a broadcast's sends).
        self.batch = max(1, int(app.config.get("OUTBOX_BATCH", 10)))
        #: Claimed rows of those kinds kept in lanes (app/worker/lanes.py) at most; more are claimed below it.
        self.lane_cap = self.size * self.batch * LANE_BATCHES_PER_THREAD
        self._lanes = Lanes(self.batch)
        self._free = threading.Semaphore(self.size)
        self._wake = threading.Event()
        self._kicked = threading.Event()
        self._stop = threading.Event()
        self._executor: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Pool:
        load_handlers()
        self._executor = ThreadPoolExecutor(self.size, thread_name_prefix="botfleet-outbox")
        self._thread = threading.Thread(target=self._run, name="botfleet-outbox-claimer", daemon=True)
        self._thread.start()
        dispatch.install(self.app, self)
        return self

    def kick(self, ids: list[int]) -> None:
        self._kicked.set()
        self._wake.set()

    def stop(self, timeout: float = 10) -> None:
        if dispatch.dispatcher_of(self.app) is self:
            dispatch.install(self.app, None)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._executor is not None:
            for key, ids in self._lanes.drain():  # claimed: sent if they may go, else held back in the database
                self._executor.submit(self._deliver, ids, key, False)
            self._executor.shutdown(wait=True, cancel_futures=False)

    def _run(self) -> None:
        wait, claim = self.poll_seconds, True
        while not self._stop.is_set():
            if not self._wake.wait(wait) and claim:
                self._kicked.set()
            self._wake.clear()
            try:
                while not self._stop.is_set() and self._claim_and_submit():
                    pass
                wait, claim = self._until_next()
            except Exception:  # noqa: BLE001 - e.g. the database is down; the next round tries again
                log.warning("outbox pool: claim failed", exc_info=True)
                wait, claim = self.poll_seconds, True
                self._kicked.set()

    def _until_next(self) -> tuple[float, bool]:
        """Seconds to wait for the next round, and whether that round claims: until a lane may go, or (claiming)
        until the earliest row falls due (a rescheduled send comes back when its slot frees, not up to a poll later),
        at most a poll (rows other processes commit). With the lanes full, rows of their kinds that fall due wait
        for room in them (a lane's batch done wakes the claimer)."""
        lanes = self._lanes.next_in()
        due = None
        if len(self._lanes) < self.lane_cap:
            with self.app.app_context():
                due = delivery.next_due()
        wait = self.poll_seconds if due is None else min(max((due - utcnow()).total_seconds(), 0.005),
                                                         self.poll_seconds)
        if lanes is not None and lanes < wait:
            return max(lanes, 0.001), False
        return wait, True

    def _claim_and_submit(self) -> bool:
        """Hand free threads the lanes' batches that may go and, when woken to claim (or the lanes run low), new due
        rows: one per thread of the kinds delivered alone, up to the lanes' room of the kinds in lanes; True when
        something was claimed."""
        self._free.acquire()
        free = 1
        while free < self.size and self._free.acquire(blocking=False):
            free += 1
        chunks: list[tuple[object, list[int]]] = []
        claimed: list[tuple[int, str, dict]] = []
        try:
            with self.app.app_context():  # a lane's `ready` may read the app's config and limits
                chunks = self._lanes.take(free)
                if self._kicked.is_set() or len(self._lanes) < self.lane_cap // 2:
                    self._kicked.clear()
                    claimed = self._claim(free - len(chunks))
                    chunks += [(None, [message_id]) for message_id, kind, _ in claimed
                               if outbox.batch_handler_for(kind) is None]
                    chunks += self._lanes.take(free - len(chunks))
        finally:
            self._release(free - len(chunks))
            for key, ids in chunks:
                self._executor.submit(self._deliver, ids, key)
        if claimed:
            self._kicked.set()  # claim again: more may be due
        return bool(claimed)

    def _claim(self, threads: int) -> list[tuple[int, str, dict]]:
        """Claim up to `threads` due rows of the kinds delivered alone, and rows of the kinds delivered in batches up
        to the lanes' room (kept in them)."""
        batched = set(outbox.batch_kinds())
        try:
            claimed = delivery.claim_rows(threads, other_kinds=batched) if threads > 0 else []
            room = self.lane_cap - len(self._lanes)
            if batched and room > 0:
                more = delivery.claim_rows(room, kinds=batched)
                for message_id, kind, payload in more:
                    self._lanes.add(kind, payload, message_id)
                claimed += more
        except Exception:
            db.session.rollback()
            raise
        return claimed

    def _release(self, count: int) -> None:
        for _ in range(count):
            self._free.release()

    def _deliver(self, message_ids: list[int], lane=None, wake: bool = True) -> None:
        try:
            with self.app.app_context():
                delivery.deliver_many(message_ids)
        except Exception:  # noqa: BLE001 - the lease expires and the rows are claimed again
            log.exception("outbox pool: delivering %s failed", message_ids)
        finally:
            if lane is not None:
                self._lanes.done(lane)
            self._free.release()
            if wake:
                self._wake.set()


class Sweeper:
    """With a broker (QUEUE_URL set): every poll, hand the due rows to the broker (new rows written by a
    process that could not reach it, retries whose time came, messages lost with a killed worker)."""

    def __init__(self, app: Flask, poll_seconds: float | None = None):
        self.app = app
        self.poll_seconds = poll_seconds or app.config.get("OUTBOX_POLL_SECONDS", 1.0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Sweeper:
        self._thread = threading.Thread(target=self._run, name="botfleet-outbox-sweeper", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        from app.worker import broker

        while not self._stop.wait(self.poll_seconds):
            try:
                broker.sweep(self.app)
            except Exception:  # noqa: BLE001 - the database or the broker is down; the next round tries again
                log.warning("outbox sweeper: round failed", exc_info=True)


def default_pool(app: Flask) -> Pool | Sweeper:
    """What a runtime runs for the outbox: the in-process Pool when QUEUE_URL is unset, else the Sweeper
    (`flask worker` processes deliver)."""
    return Sweeper(app) if app.config.get("QUEUE_URL") else Pool(app)
