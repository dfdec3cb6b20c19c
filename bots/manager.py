"""BotManager: one TeleBot per active bot, polling or webhook, supervised and kept in step with the database."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from flask import Flask
from telebot import apihelper

from app import redaction, telegram_api
from app.extensions import db
from app.models import Bot, BotStatus
from bots.dispatch import SerialPerKeyPool
from bots.factory import build_telebot
from bots.polling import REVOKED_MESSAGE, Health, PollingLoop, PollSettings
from bots.status import StatusReport, active_bot_versions, write_status, write_statuses

log = redaction.get_logger(__name__)

#: The update types every bot asks Telegram for, in both modes (docs/bots.md "Which updates a bot receives"):
#: messages (private conversations; admin actions in admin groups; successful payments), button presses,
#: the bot's own membership (a member blocking it), paid chats' members and join requests, Stars checkouts.
#: Edits, channel posts and inline queries are not asked for: no handler acts on them.
DEFAULT_ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member", "chat_member", "chat_join_request",
                           "pre_checkout_query"]
#: While a bot stays healthy, last_seen_at is refreshed this often.
HEARTBEAT_SECONDS = 15.0
STATUS_OF = {"running": BotStatus.RUNNING, "conflict": BotStatus.ERROR, "failing": BotStatus.ERROR,
             "revoked": BotStatus.ERROR, "broken": BotStatus.ERROR, "stopped": BotStatus.STOPPED}


@dataclass
class BotRunner:
    """The manager's record of one running bot."""

    bot_id: int
    version: int
    tb: object | None = None
    webhook_secret: str | None = None
    loop: PollingLoop | None = None
    #: Webhook mode (and build failures) keep their health here; polling asks the loop.
    own_health: Health = field(default_factory=lambda: Health("starting"))
    reported: Health | None = None
    reported_at: float = 0.0
    retry_at: float = 0.0
    restarts: int = 0

    @property
    def health(self) -> Health:
        return self.loop.health if self.loop is not None else self.own_health


class BotManager:
    """Builds, starts, stops and supervises the bots of every tenant in this process."""

    def __init__(self, app: Flask):
        config = app.config
        self.app = app
        self.mode = config.get("BOT_MODE", "polling")
        if self.mode not in ("polling", "webhook"):
            raise RuntimeError(f"BOT_MODE must be polling or webhook, not {self.mode!r}.")
        self.sync_interval = float(config.get("BOT_SYNC_INTERVAL", 2.0))
        self.workers = int(config.get("BOT_WORKERS", 8))
        allowed = config.get("BOT_ALLOWED_UPDATES", DEFAULT_ALLOWED_UPDATES)
        self.poll_settings = PollSettings(long_poll_seconds=int(config.get("BOT_POLL_TIMEOUT", 10)),
                                          allowed_updates=allowed,
                                          max_backoff_seconds=float(config.get("BOT_MAX_BACKOFF", 30.0)))
        self.pool: SerialPerKeyPool | None = None
        self._runners: dict[int, BotRunner] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._supervisor: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> BotManager:
        """Configure the Bot API client and start the supervisor (it starts the bots at once)."""
        telegram_api.configure(self.app)
        if self.mode == "polling":
            self.pool = SerialPerKeyPool(self.workers)
        self._stop.clear()
        self._supervisor = threading.Thread(target=self._supervise, name="bot-supervisor", daemon=True)
        self._supervisor.start()
        return self

    def stop(self, join_seconds: float = 5.0) -> None:
        """Stop supervising and stop every polling loop (webhooks stay registered for the next leader)."""
        self._stop.set()
        if self._supervisor is not None:
            self._supervisor.join(join_seconds)
        with self._lock:
            runners = list(self._runners.values())
            self._runners.clear()
        for runner in runners:
            if runner.loop is not None:
                runner.loop.stop()
                write_status(self.app, runner.bot_id, runner.version, BotStatus.STOPPED)
        deadline = time.monotonic() + join_seconds
        for runner in runners:
            if runner.loop is not None:
                runner.loop.thread.join(max(0.0, deadline - time.monotonic()))
        if self.pool is not None:
            self.pool.shutdown(wait=False)

    def _supervise(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync()
            except Exception:  # noqa: BLE001 - e.g. the database is down; keep the running bots and retry
                log.exception("bot supervisor: sync failed; retrying")
            self._stop.wait(self.sync_interval)

    # -- keeping in step with the database -------------------------------------------------------------
    def sync(self) -> None:
        """Start new bots, stop disabled ones, restart changed ones, revive crashed loops, record health."""
        wanted = active_bot_versions(self.app)
        with self._lock:
            if self._stop.is_set():
                return
            for bot_id in set(self._runners) - set(wanted):
                self._retire(self._runners.pop(bot_id))
            for bot_id, version in wanted.items():
                runner = self._runners.get(bot_id)
                if runner is None or runner.version != version:
                    self._runners[bot_id] = self._launch(bot_id, version, previous=runner)
                else:
                    self._repair(runner)
            self._report(list(self._runners.values()))

    def running_bot_ids(self) -> set[int]:
        """Bots whose runner is healthy right now."""
        with self._lock:
            return {r.bot_id for r in self._runners.values() if r.health.state == "running"}

    def runner(self, bot_id: int) -> BotRunner | None:
        with self._lock:
            return self._runners.get(bot_id)

    def _launch(self, bot_id: int, version: int, previous: BotRunner | None) -> BotRunner:
        if previous is not None:
            self._retire(previous, record=False)
        runner = BotRunner(bot_id, version)
        with self.app.app_context():
            try:
                bot = db.session.get(Bot, bot_id)
                runner.tb = build_telebot(self.app, bot)
                secret = bot.webhook_secret
            except Exception as exc:  # noqa: BLE001 - one broken bot must not stop the others
                log.error("bot %s: cannot be built", bot_id, exc_info=exc)
                runner.own_health = Health("broken", f"cannot start: {type(exc).__name__}")
                return runner
            finally:
                db.session.rollback()
        if self.mode == "polling":
            predecessor = previous.loop if previous is not None else None
            runner.loop = PollingLoop(runner.tb, self.pool, self.poll_settings, predecessor=predecessor).start()
        else:
            runner.webhook_secret = secret
            self._register_webhook(runner)
        log.info("bot %s: started (%s, config version %s)", bot_id, self.mode, version)
        return runner

    def _retire(self, runner: BotRunner, record: bool = True) -> None:
        if runner.loop is not None:
            runner.loop.stop()
        elif self.mode == "webhook" and runner.tb is not None and record:
            _quietly(runner.tb.delete_webhook)
        if record:
            write_status(self.app, runner.bot_id, None, BotStatus.STOPPED)
            log.info("bot %s: stopped", runner.bot_id)

    def _repair(self, runner: BotRunner) -> None:
        loop = runner.loop
        if loop is not None and not loop.is_alive() and not loop.finished:
            runner.restarts += 1
            log.warning("bot %s: polling loop died; restarting it (restart %s)", runner.bot_id, runner.restarts)
            runner.loop = PollingLoop(runner.tb, self.pool, self.poll_settings, offset=loop.offset).start()
        elif self.mode == "webhook" and runner.health.state == "failing" and time.monotonic() >= runner.retry_at:
            self._register_webhook(runner)

    def _register_webhook(self, runner: BotRunner) -> None:
        base = self.app.config["PUBLIC_BASE_URL"].rstrip("/")
        try:
            runner.tb.set_webhook(
                url=f"{base}/tg/{runner.bot_id}", secret_token=runner.webhook_secret,
                allowed_updates=self.poll_settings.allowed_updates,
                max_connections=int(self.app.config.get("BOT_WEBHOOK_MAX_CONNECTIONS", 40)))
            runner.own_health, runner.restarts = Health("running"), 0
        except apihelper.ApiTelegramException as exc:
            if exc.error_code in (401, 404):
                runner.own_health = Health("revoked", REVOKED_MESSAGE)
            else:
                self._webhook_failed(runner, f"setWebhook failed: {exc.error_code} {exc.description}")
        except Exception as exc:  # noqa: BLE001 - network trouble; retried with backoff
            self._webhook_failed(runner, f"setWebhook failed: {type(exc).__name__}")

    def _webhook_failed(self, runner: BotRunner, message: str) -> None:
        runner.restarts += 1
        runner.own_health = Health("failing", redaction.redact(message)[:300] + "; retrying")
        runner.retry_at = time.monotonic() + min(2 ** runner.restarts, 60)

    def _report(self, runners: list[BotRunner]) -> None:
        """Record every changed health, and the heartbeat of the running bots due one, in one transaction."""
        due = [(runner, runner.health) for runner in runners if self._report_due(runner)]
        reports = [StatusReport(runner.bot_id, runner.version, STATUS_OF[health.state], health.message,
                                seen=STATUS_OF[health.state] == BotStatus.RUNNING) for runner, health in due]
        if reports and write_statuses(self.app, reports):
            now = time.monotonic()
            for runner, health in due:
                runner.reported, runner.reported_at = health, now

    @staticmethod
    def _report_due(runner: BotRunner) -> bool:
        health = runner.health
        status = STATUS_OF.get(health.state)
        if status is None:
            return False
        beat_due = status == BotStatus.RUNNING and time.monotonic() - runner.reported_at > HEARTBEAT_SECONDS
        return health != runner.reported or beat_due

def _quietly(call) -> None:
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - best effort: the token may already be dead
        log.info("best-effort Telegram call failed: %s", redaction.redact(str(exc))[:200])
