"""Webhook delivery: one worker thread per bot POSTs its updates in order, retrying as Telegram.

Telegram keeps offering an update to a failing webhook with a backoff that grows to minutes, and
gives up on it after about a day; the updates behind it wait (pending_update_count grows). A Bot
API method in the body of a 2xx answer is executed, as Telegram does.
"""

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
    """Starts a delivery worker per bot with a webhook; stops them all on close()."""

    def __init__(self, state, policy=None, execute=None):
        self.state = state
        self.policy = policy or RetryPolicy()
        #: execute(bot, body): runs a Bot API method a webhook answered with.
        self.execute = execute
        self._workers = {}
        self._stopping = threading.Event()

    def ensure_worker(self, bot):
        """Start the bot's worker unless one runs; the caller holds the state lock."""
        worker = self._workers.get(bot)
        if (worker and worker.is_alive()) or self._stopping.is_set():
            return
        worker = threading.Thread(target=self._run, args=(bot,), daemon=True,
                                  name=f"sandbox-webhook-{bot.id}")
        self._workers[bot] = worker
        worker.start()

    def close(self, timeout=2.0):
        """Stop every worker (the state must already be closed, so they wake up)."""
        self._stopping.set()
        for worker in list(self._workers.values()):
            worker.join(timeout)

    def retention(self):
        """Return how long an undelivered update is kept, in seconds."""
        override = self.state.webhook_retention
        return self.policy.retention if override is None else override

    def _run(self, bot):
        session = requests.Session()
        try:
            while (job := self._next_job(bot)) is not None:
                update, hook, delivery = job
                status, error, reply = self._post(session, hook, update)
                self._finish(bot, hook, update, delivery, status, error)
                if reply is not None and self.execute is not None:
                    self.execute(bot, reply)
        finally:
            session.close()

    def _next_job(self, bot):
        with self.state.lock:
            while True:
                if self._stopping.is_set() or bot.detached or bot.webhook is None:
                    self._workers.pop(bot, None)
                    return None
                pending = bot.deliverable(1, bot.allowed_updates)
                wait = 1.0
                if pending:
                    delivery = self._delivery(bot, pending[0])
                    if self._expired(bot, pending[0], delivery):
                        continue
                    wait = (delivery.next_attempt_at or 0) - time.time()
                    if wait <= 0:
                        return pending[0], bot.webhook, delivery
                bot.changed.wait(min(wait, 1.0))

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
