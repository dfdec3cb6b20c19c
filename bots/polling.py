"""One long-polling loop per bot: fetch updates, hand them to the shared pool, report health."""
from __future__ import annotations

import threading
from dataclasses import dataclass

import requests
from telebot import apihelper, types

from app import redaction, telegram_api
from bots.dispatch import SerialPerKeyPool, ordering_key, process_update
from bots.middleware import UpdateEnvelope

log = redaction.get_logger(__name__)

REVOKED_MESSAGE = "token revoked or invalid"
CONFLICT_MESSAGE = "409 Conflict: another process is polling this bot or a webhook is set; retrying"
#: Consecutive failed polls before a network problem shows on the bot's status.
FAILURES_BEFORE_ERROR = 3
#: Updates of one bot waiting in the pool before its loop stops fetching more.
MAX_IN_FLIGHT = 200


@dataclass(frozen=True)
class Health:
    """What a bot's runner last saw: starting, running, conflict, failing, revoked or stopped."""

    state: str
    message: str | None = None


@dataclass(frozen=True)
class PollSettings:
    long_poll_seconds: int = 10
    allowed_updates: list[str] | None = None
    max_backoff_seconds: float = 30.0


class PollingLoop:
    """A thread that long-polls getUpdates for one bot until stopped, the token dies, or it crashes."""

    def __init__(self, tb, pool: SerialPerKeyPool, settings: PollSettings, offset: int = 0,
                 predecessor: PollingLoop | None = None):
        self.tb = tb
        self.bot_id = tb.botfleet_bot_id
        self.pool = pool
        self.settings = settings
        self.offset = offset
        self.health = Health("starting")
        self._predecessor = predecessor
        self._stop = threading.Event()
        self._in_flight = threading.BoundedSemaphore(MAX_IN_FLIGHT)
        self._failures = 0
        self.thread = threading.Thread(target=self._run, name=f"bot-poll-{self.bot_id}", daemon=True)

    def start(self) -> PollingLoop:
        self.thread.start()
        return self

    def stop(self) -> None:
        """Ask the loop to end; a long-poll in flight finishes first and its updates stay unconfirmed."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def is_alive(self) -> bool:
        return self.thread.is_alive()

    @property
    def finished(self) -> bool:
        """Ended on purpose (stopped or revoked), as opposed to a crash the supervisor should repair."""
        return self._stop.is_set() or self.health.state == "revoked"

    def _run(self) -> None:
        if self._predecessor is not None:
            # The old loop's long-poll must end first, or Telegram answers 409 to ours.
            self._predecessor.thread.join(self.settings.long_poll_seconds + 15)
        webhook_cleared = False
        while not self._stop.is_set():
            try:
                if not webhook_cleared:
                    self.tb.delete_webhook()
                    webhook_cleared = True
                self._poll_once()
            except apihelper.ApiTelegramException as exc:
                if self._telegram_refused(exc):
                    return
            except (requests.RequestException, apihelper.ApiException) as exc:
                self._failed(f"Telegram unreachable: {type(exc).__name__}")
        self.health = Health("stopped")

    def _poll_once(self) -> None:
        raw_updates = self._fetch()
        if self._stop.is_set():
            return  # not confirmed: Telegram hands them to whoever polls next
        self._failures = 0
        self.health = Health("running")
        for raw in raw_updates:
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            if not isinstance(update_id, int):
                continue
            self.offset = max(self.offset, update_id + 1)
            update = _parse(raw, self.bot_id)
            if update is not None:
                self._dispatch(update)

    def _fetch(self) -> list:
        """One getUpdates long-poll, as raw JSON, so one unreadable update cannot block the others."""
        params = {"offset": self.offset, "timeout": self.settings.long_poll_seconds}
        if self.settings.allowed_updates is not None:
            params["allowed_updates"] = self.settings.allowed_updates
        seconds = self.settings.long_poll_seconds + 10
        return telegram_api.call(self.tb.token, "getUpdates", params, timeout=(seconds, seconds)) or []

    def _dispatch(self, update) -> None:
        while not self._in_flight.acquire(timeout=1):
            if self._stop.is_set():
                return

        def task():
            try:
                process_update(self.tb, update, UpdateEnvelope(update.update_id))
            finally:
                self._in_flight.release()

        self.pool.submit(ordering_key(self.bot_id, update), task)

    def _telegram_refused(self, exc: apihelper.ApiTelegramException) -> bool:
        """Handle an error answer from Telegram; True when the loop must end."""
        if exc.error_code in (401, 404):
            log.warning("bot %s: Telegram answered %s; stopping this bot", self.bot_id, exc.error_code)
            self.health = Health("revoked", REVOKED_MESSAGE)
            return True
        if exc.error_code == 409:
            self.health = Health("conflict", CONFLICT_MESSAGE)
            self._backoff()
            return False
        self._failed(f"Telegram error {exc.error_code}: {redaction.redact(str(exc.description))[:200]}")
        return False

    def _failed(self, message: str) -> None:
        log.info("bot %s: poll failed (%s)", self.bot_id, message)
        if self._failures + 1 >= FAILURES_BEFORE_ERROR:
            self.health = Health("failing", message + "; retrying")
        self._backoff()

    def _backoff(self) -> None:
        """Wait 0.5 s, 1 s, 2 s ... up to the cap, waking at once when stopped."""
        self._failures += 1
        delay = min(0.5 * 2 ** (self._failures - 1), self.settings.max_backoff_seconds)
        self._stop.wait(delay)


def _parse(raw: dict, bot_id: int):
    """The library's Update, or None (logged and skipped) for one it cannot read."""
    try:
        return types.Update.de_json(raw)
    except Exception as exc:  # noqa: BLE001 - a malformed update must not stall the bot
        log.warning("bot %s: skipped unreadable update %s (%s)", bot_id, raw.get("update_id"), type(exc).__name__)
        return None
