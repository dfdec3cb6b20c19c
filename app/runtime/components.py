"""What the leader runs: the scheduler and the BotManager."""
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
    """`bots.manager.BotManager(app)` with start()/stop()."""

    name = "bots"

    def __init__(self, app):
        self.app = app
        self.manager = None

    def start(self) -> None:
        from bots.manager import BotManager

        self.manager = BotManager(self.app)
        self.manager.start()

    def stop(self) -> None:
        if self.manager is not None:
            self.manager.stop()
        self.manager = None

    @property
    def running(self) -> bool:
        return self.manager is not None


def default_components(app) -> list:
    return [SchedulerComponent(app), BotManagerComponent(app)]
