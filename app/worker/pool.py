"""The in-process worker pool: threads that deliver outbox rows as they are committed or fall due.

One claimer thread claims due rows (woken by `kick` after a commit, when the earliest rescheduled row falls
due, or every POLL seconds for rows written by other processes) and hands each to a thread of a small executor.
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

log = logging.getLogger(__name__)


class Pool:
    def __init__(self, app: Flask, size: int | None = None, poll_seconds: float | None = None):
        self.app = app
        self.size = size or app.config.get("OUTBOX_WORKERS", 4)
        self.poll_seconds = poll_seconds or app.config.get("OUTBOX_POLL_SECONDS", 1.0)
        #: Rows a thread takes at once of a kind delivered in batches (a broadcast's sends).
        self.batch = max(1, int(app.config.get("OUTBOX_BATCH", 10)))
        self._free = threading.Semaphore(self.size)
        self._wake = threading.Event()
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
        self._wake.set()

    def stop(self, timeout: float = 10) -> None:
        if dispatch.dispatcher_of(self.app) is self:
            dispatch.install(self.app, None)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=False)

    def _run(self) -> None:
        wait = self.poll_seconds
        while not self._stop.is_set():
            self._wake.wait(wait)
            self._wake.clear()
            try:
                while not self._stop.is_set() and self._claim_and_submit():
                    pass
                wait = self._until_next_due()
            except Exception:  # noqa: BLE001 - e.g. the database is down; the next round tries again
                log.warning("outbox pool: claim failed", exc_info=True)
                wait = self.poll_seconds

    def _until_next_due(self) -> float:
        """Seconds to wait for the next round: until the earliest row falls due (a rescheduled send comes back
        when its slot frees, not up to a poll later), at most a poll (rows other processes commit)."""
        with self.app.app_context():
            due = delivery.next_due()
        if due is None:
            return self.poll_seconds
        return min(max((due - utcnow()).total_seconds(), 0.005), self.poll_seconds)

    def _claim_and_submit(self) -> bool:
        """Claim a row per free thread, and if some are of a kind delivered in batches (a broadcast's sends), up to
        `batch` per thread of those kinds; True when something was claimed."""
        self._free.acquire()
        free = 1
        while free < self.size and self._free.acquire(blocking=False):
            free += 1
        with self.app.app_context():
            try:
                claimed = delivery.claim_rows(free)
                kinds = {kind for _, kind in claimed if outbox.batch_handler_for(kind) is not None}
                if kinds and self.batch > 1:  # more of those kinds, so each thread gets a batch
                    claimed += delivery.claim_rows(free * self.batch - len(claimed), kinds=kinds)
            except Exception:
                db.session.rollback()
                self._release(free)
                raise
        chunks = chunked(claimed, free, self.batch)
        self._release(free - len(chunks))
        for chunk in chunks:
            self._executor.submit(self._deliver, chunk)
        return bool(claimed)

    def _release(self, count: int) -> None:
        for _ in range(count):
            self._free.release()

    def _deliver(self, message_ids: list[int]) -> None:
        try:
            with self.app.app_context():
                delivery.deliver_many(message_ids)
        except Exception:  # noqa: BLE001 - the lease expires and the rows are claimed again
            log.exception("outbox pool: delivering %s failed", message_ids)
        finally:
            self._free.release()


def chunked(claimed: list[tuple[int, str]], threads: int, batch: int) -> list[list[int]]:
    """Split claimed (id, kind) rows into at most `threads` chunks: rows of a kind with a batch handler in
    chunks of up to `batch` of that kind, every other row alone, folded together if there are more than threads."""
    alone, batched = [], {}
    for message_id, kind in claimed:
        if outbox.batch_handler_for(kind) is not None:
            batched.setdefault(kind, []).append(message_id)
        else:
            alone.append([message_id])
    chunks = alone + [ids[i:i + batch] for ids in batched.values() for i in range(0, len(ids), batch)]
    if len(chunks) <= threads:
        return chunks
    folded: list[list[int]] = [[] for _ in range(threads)]
    for n, chunk in enumerate(chunks):
        folded[n % threads].extend(chunk)
    return folded


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
