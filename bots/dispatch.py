"""Running updates: a fixed worker pool shared by every bot, with one member's updates kept in order."""
from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor

from telebot import types, util

from app import redaction
from bots.middleware import UpdateEnvelope, reset_envelope, set_envelope

log = redaction.get_logger(__name__)


def process_update(tb, update: types.Update, envelope: UpdateEnvelope) -> UpdateEnvelope:
    """Run one update through the TeleBot (middleware and handlers) in this thread; never raise."""
    token = set_envelope(envelope)
    try:
        tb.process_new_updates([update])
    except Exception as exc:  # noqa: BLE001 - a bad update never kills the thread that runs it
        envelope.failed = envelope.failed or exc
        log.error("bot %s: update %s escaped its handlers", tb.botfleet_bot_id, update.update_id, exc_info=exc)
    finally:
        reset_envelope(token)
    return envelope


def ordering_key(bot_id: int, update: types.Update) -> Hashable:
    """Updates with the same key run one after another: the same user (or chat) of the same bot."""
    for kind in util.update_types:
        part = getattr(update, kind, None)
        if part is None:
            continue
        user = getattr(part, "from_user", None)
        if user is not None:
            return bot_id, "user", user.id
        chat = getattr(part, "chat", None) or getattr(getattr(part, "message", None), "chat", None)
        if chat is not None:
            return bot_id, "chat", chat.id
    return bot_id, "update", update.update_id


class SerialPerKeyPool:
    """A fixed-size thread pool where tasks with the same key never overlap and run in submission order."""

    def __init__(self, workers: int, name: str = "bot-worker"):
        self.workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._queues: dict[Hashable, deque[Callable[[], None]]] = {}
        self._lock = threading.Lock()

    def submit(self, key: Hashable, task: Callable[[], None]) -> None:
        with self._lock:
            queue = self._queues.get(key)
            if queue is not None:
                queue.append(task)
                return
            self._queues[key] = deque([task])
        self._executor.submit(self._drain, key)

    def pending(self) -> int:
        with self._lock:
            return sum(len(queue) for queue in self._queues.values())

    def shutdown(self, wait: bool = True) -> None:
        with self._lock:
            self._queues.clear()
        self._executor.shutdown(wait=wait, cancel_futures=True)

    def _drain(self, key: Hashable) -> None:
        while True:
            with self._lock:
                queue = self._queues.get(key)
                if not queue:
                    self._queues.pop(key, None)
                    return
                task = queue[0]
            try:
                task()
            except Exception:  # noqa: BLE001 - tasks guard themselves; this is the last net
                log.exception("a bot task failed")
            with self._lock:
                queue = self._queues.get(key)
                if queue:
                    queue.popleft()
