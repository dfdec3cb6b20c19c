"""Webhook delivery: one worker thread per bot POSTs its updates in order, with retries."""

import logging
import threading
import time
from dataclasses import dataclass

import requests

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently an update is offered to a failing webhook."""

    attempts: int = 5
    first_delay: float = 0.2
    max_delay: float = 5.0
    request_timeout: float = 10.0

    def delay(self, failures):
        """Return the wait after `failures` failed attempts (exponential, capped)."""
        return min(self.first_delay * 2 ** (failures - 1), self.max_delay)


class WebhookDispatcher:
    """Starts a delivery worker per bot with a webhook; stops them all on close()."""

    def __init__(self, state, policy=None):
        self.state = state
        self.policy = policy or RetryPolicy()
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

    def _run(self, bot):
        session = requests.Session()
        try:
            while (job := self._next_job(bot)) is not None:
                update, hook = job
                error = self._deliver(session, bot, hook, update)
                self._finish(bot, hook, update, error)
        finally:
            session.close()

    def _next_job(self, bot):
        with self.state.lock:
            while True:
                if self._stopping.is_set() or bot.detached or bot.webhook is None:
                    self._workers.pop(bot, None)
                    return None
                pending = bot.deliverable(1, bot.webhook.allowed_updates)
                if pending:
                    return pending[0], bot.webhook
                bot.changed.wait(1.0)

    def _deliver(self, session, bot, hook, update):
        """POST one update until it is accepted; return the last error, or None."""
        error = None
        for attempt in range(1, self.policy.attempts + 1):
            error = self._post(session, hook, update)
            if error is None or attempt == self.policy.attempts:
                return error
            stopped = self._stopping.wait(self.policy.delay(attempt))
            if stopped or not self._still_current(bot, hook):
                return error
        return error

    def _post(self, session, hook, update):
        headers = {SECRET_HEADER: hook.secret_token} if hook.secret_token else {}
        try:
            response = session.post(hook.url, json=update, headers=headers,
                                    timeout=self.policy.request_timeout)
        except requests.RequestException as exc:
            return f"Connection failed: {type(exc).__name__}"
        if 200 <= response.status_code < 300:
            return None
        return f"Wrong response from the webhook: {response.status_code} {response.reason}"

    def _still_current(self, bot, hook):
        with self.state.lock:
            return self._still_current_locked(bot, hook)

    def _finish(self, bot, hook, update, error):
        with self.state.lock:
            if error is None or self._still_current_locked(bot, hook):
                # Delivered, or dropped after the last attempt; either way it leaves the queue.
                bot.updates = [pending for pending in bot.updates if pending is not update]
            if error is not None:
                hook.last_error_date = int(time.time())
                hook.last_error_message = error
                log.warning("sandbox webhook for bot %s failed: %s", bot.id, error)

    @staticmethod
    def _still_current_locked(bot, hook):
        return bot.webhook is hook and not bot.detached
