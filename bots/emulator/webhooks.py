"""Webhook delivery: a bounded pool of workers POSTs each bot's updates in order, retrying as Telegram.

Telegram keeps offering an update to a failing webhook with a backoff that grows to minutes, and
gives up on it after about a day; the updates behind it wait (pending_update_count grows). A Bot
API method in the body of a 2xx answer is executed, as Telegram does.
"""

import heapq
import itertools
import json
import logging
import threading
import time
from dataclasses import dataclass

import requests

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: Finished (delivered or dropped) delivery records kept per bot for GET /sandbox/webhook-deliveries.
FINISHED_KEPT = 1000


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently an update is offered to a failing webhook.

    The defaults follow Telegram: exponential backoff capped at minutes, an update kept a day.
    `attempts` (None: unlimited) caps the tries, for tests of giving up.
    """

    first_delay: float = 0.5
    max_delay: float = 120.0
    retention: float = 24 * 3600.0
    attempts: int | None = None
    request_timeout: float = 10.0

    def delay(self, failures):
        """Return the wait after `failures` failed attempts (exponential, capped)."""
        return min(self.first_delay * 2 ** (failures - 1), self.max_delay)


@dataclass
class Delivery:
    """How one update's delivery to a webhook went so far."""

    update_id: int
    queued_at: float
    attempts: int = 0
    last_status: int | None = None
    next_attempt_at: float | None = None
    delivered: bool = False
    dropped: bool = False

    def to_json(self):
        """Return the control-side view (GET /sandbox/webhook-deliveries)."""
        return {"update_id": self.update_id, "attempts": self.attempts,
                "last_status": self.last_status, "next_attempt_at": self.next_attempt_at,
                "delivered": self.delivered, "dropped": self.dropped}


class WebhookDispatcher:
    """Delivers every bot's webhook updates with one bounded pool of worker threads.

    A bot with updates to deliver is scheduled (a heap of due times); a free worker takes the bot
    that is due first, POSTs its oldest update and schedules the bot again: at once after a success,
    after the backoff after a failure. A bot is taken by one worker at a time, so its updates go out
    in order, one in flight, as on Telegram, while 10,000 bots with a webhook and nothing to deliver
    cost no thread at all. Workers start at the first setWebhook (creating the app starts none).
    """

    #: Worker threads: at most this many webhooks are waited on at once (a slow one holds a worker
    #: up to the policy's request_timeout; the other bots' updates wait for a free worker).
    WORKERS = 16

    def __init__(self, state, policy=None, execute=None, workers=None):
        self.state = state
        self.policy = policy or RetryPolicy()
        #: execute(bot, body): runs a Bot API method a webhook answered with.
        self.execute = execute
        self.workers = workers or self.WORKERS
        self._threads = []
        self._stopping = threading.Event()
        #: (due time.monotonic(), sequence, bot): bots with something to deliver; an entry whose due
        #: time is not _due[bot] any more is stale and skipped.
        self._heap = []
        self._sequence = itertools.count()
        #: Every bot the pool is responsible for now (scheduled, or held by a worker): its due time,
        #: or None while a worker holds it.
        self._due = {}
        self._wake = threading.Condition(state.lock)
        state.update_listener = self.kick

    def ensure_worker(self, bot):
        """A bot's webhook was set: deliver what it has pending (the caller holds the state lock)."""
        if self._stopping.is_set():
            return
        if not self._threads:
            self._start_workers()
        self.kick(bot)

    def kick(self, bot, at=None):
        """Schedule a bot with a webhook at `at` (monotonic; default now) unless the pool has it
        already (a worker holds it, or it waits for a retry). The caller holds the state lock."""
        if bot.webhook is None or bot in self._due or self._stopping.is_set() or not self._threads:
            return
        self._schedule(bot, time.monotonic() if at is None else at)

    def wake_all(self):
        """Re-examine every waiting bot now (e.g. the retention changed); the caller holds the lock."""
        now = time.monotonic()
        for bot, due in list(self._due.items()):
            if due is not None and due > now:
                self._schedule(bot, now)

    def _schedule(self, bot, due):
        self._due[bot] = due
        heapq.heappush(self._heap, (due, next(self._sequence), bot))
        self._wake.notify()

    def _start_workers(self):
        for index in range(self.workers):
            thread = threading.Thread(target=self._run, daemon=True, name=f"sandbox-webhook-{index}")
            self._threads.append(thread)
            thread.start()

    def close(self, timeout=2.0):
        """Stop the workers (a POST in flight ends within the policy's request_timeout)."""
        with self.state.lock:
            self._stopping.set()
            self._wake.notify_all()
        for thread in list(self._threads):
            thread.join(timeout)

    def thread_count(self):
        """How many delivery threads run (for tests and benches: bounded whatever the bot count)."""
        return sum(thread.is_alive() for thread in self._threads)

    def retention(self):
        """Return how long an undelivered update is kept, in seconds."""
        override = self.state.webhook_retention
        return self.policy.retention if override is None else override

    def _run(self):
        session = requests.Session()
        try:
            while (job := self._next_job()) is not None:
                bot, update, hook, delivery = job
                status, error, reply = self._post(session, hook, update)
                self._finish(bot, hook, update, delivery, status, error)
                if reply is not None and self.execute is not None:
                    self._execute(bot, reply)
                with self.state.lock:  # the bot's next update may go now (or wait for its retry)
                    self._release(bot)
        finally:
            session.close()

    def _execute(self, bot, reply):
        try:
            self.execute(bot, reply)
        except Exception:  # a bad reply must not kill a worker the other bots share
            log.exception("sandbox webhook for bot %s: the method in its answer failed", bot.id)

    def _next_job(self):
        """Wait for a due bot and take its oldest update; None once the pool stops."""
        with self.state.lock:
            while not self._stopping.is_set():
                now = time.monotonic()
                if not self._heap:
                    self._wake.wait()
                    continue
                due, _, bot = self._heap[0]
                if due > now:
                    self._wake.wait(due - now)
                    continue
                heapq.heappop(self._heap)
                if self._heap:
                    self._wake.notify()  # someone else watches the next due time
                if self._due.get(bot) != due:
                    continue  # stale: the bot was scheduled again, or a worker holds it
                self._due[bot] = None
                job = self._job_for(bot)
                if job is not None:
                    return (bot, *job)
            return None

    def _job_for(self, bot):
        """The bot's next (update, hook, delivery) if it is due now; otherwise schedule or drop the
        bot and return None. The caller holds the lock and the bot (its _due is None)."""
        while True:
            if bot.detached or bot.webhook is None:
                del self._due[bot]
                return None
            pending = bot.deliverable(1, bot.allowed_updates)
            if not pending:
                del self._due[bot]
                return None
            delivery = self._delivery(bot, pending[0])
            if self._expired(bot, pending[0], delivery):
                continue
            wait = (delivery.next_attempt_at or 0) - time.time()
            if wait <= 0:
                return pending[0], bot.webhook, delivery
            # a retry later; wake up earlier if the update expires first
            expires = delivery.queued_at + self.retention() - time.time()
            self._schedule(bot, time.monotonic() + max(0.0, min(wait, expires)))
            return None

    def _release(self, bot):
        """A worker is done with a bot: schedule its next update, if any (the caller holds the lock)."""
        if self._due.get(bot, 0) is None:
            del self._due[bot]
        self.kick(bot)

    def _delivery(self, bot, update):
        update_id = update["update_id"]
        delivery = bot.deliveries.get(update_id)
        if delivery is None:
            queued_at = bot.queued_at.get(update_id, time.time())
            delivery = bot.deliveries[update_id] = Delivery(update_id, queued_at)
            _forget_old(bot.deliveries)
        return delivery

    def _expired(self, bot, update, delivery):
        """Drop the update when it is older than the retention or out of attempts."""
        too_old = time.time() - delivery.queued_at > self.retention()
        out_of_tries = self.policy.attempts is not None and delivery.attempts >= self.policy.attempts
        if not (too_old or out_of_tries):
            return False
        delivery.dropped, delivery.next_attempt_at = True, None
        _remove(bot, update)
        log.warning("sandbox webhook for bot %s dropped update %s after %s attempts",
                    bot.id, delivery.update_id, delivery.attempts)
        return True

    def _post(self, session, hook, update):
        """POST one update; return (HTTP status or None, error or None, method body or None)."""
        headers = {SECRET_HEADER: hook.secret_token} if hook.secret_token else {}
        try:
            response = session.post(hook.url, json=update, headers=headers,
                                    timeout=self.policy.request_timeout)
        except requests.RequestException as exc:
            return None, f"Connection failed: {type(exc).__name__}", None
        if not 200 <= response.status_code < 300:
            error = f"Wrong response from the webhook: {response.status_code} {response.reason}"
            return response.status_code, error, None
        return response.status_code, None, _method_in(response)

    def _finish(self, bot, hook, update, delivery, status, error):
        with self.state.lock:
            delivery.attempts += 1
            delivery.last_status = status
            if error is None:
                delivery.delivered, delivery.next_attempt_at = True, None
                _remove(bot, update)
                return
            delivery.next_attempt_at = time.time() + self.policy.delay(delivery.attempts)
            hook.last_error_date = int(time.time())
            hook.last_error_message = error
            log.warning("sandbox webhook for bot %s failed: %s", bot.id, error)


def _method_in(response):
    """Return the Bot API call a webhook answered with ({"method": ..., ...}), if any."""
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("method"), str):
        return body
    return None


def _remove(bot, update):
    bot.updates = [pending for pending in bot.updates if pending is not update]
    bot.queued_at.pop(update["update_id"], None)


def _forget_old(deliveries):
    if len(deliveries) <= 2 * FINISHED_KEPT:
        return
    finished = [key for key, value in deliveries.items() if value.delivered or value.dropped]
    for key in finished[:max(0, len(finished) - FINISHED_KEPT)]:
        del deliveries[key]
