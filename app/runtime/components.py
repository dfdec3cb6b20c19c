"""What the leader runs: the scheduler and, once the bot engine exists, the BotManager."""
from __future__ import annotations

import logging

log = logging.getLogger(__name__)


class SchedulerComponent:
    """The APScheduler with every declared job."""

    name = "scheduler"

    def __init__(self, app):
        self.app = app
        self.scheduler = None

    def start(self) -> None:
        from app.scheduler import build_scheduler

        self.scheduler = build_scheduler(self.app)
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.scheduler = None

    @property
    def running(self) -> bool:
        return bool(self.scheduler and self.scheduler.running)


class BotManagerComponent:
    """`bots.manager.BotManager(app)` with start()/stop(), when the bot engine is installed."""

    name = "bots"

    def __init__(self, app):
        self.app = app
        self.manager = None

    def start(self) -> None:
        try:
            from bots.manager import BotManager
        except ImportError:
            log.info("runtime: no bot engine installed (bots.manager); running jobs only")
            return
        from app.services import notify
        from bots.notify import deliver_notice

        self.manager = BotManager(self.app)
        self.manager.start()
        notify.set_notifier(deliver_notice)  # jobs' notices now reach members through their bots

    def stop(self) -> None:
        if self.manager is not None:
            from app.services import notify

            notify.set_notifier(None)
            self.manager.stop()
        self.manager = None

    @property
    def running(self) -> bool:
        return self.manager is not None


def default_components(app) -> list:
    return [SchedulerComponent(app), BotManagerComponent(app)]
