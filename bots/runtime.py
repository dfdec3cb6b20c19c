"""The background runtime of one process: the BotManager and (once wired) the scheduler. Nothing starts at import."""
from __future__ import annotations

import threading

from flask import Flask

from bots import redaction
from bots.manager import BotManager

log = redaction.get_logger(__name__)

_lock = threading.Lock()
_manager: BotManager | None = None
_scheduler_stop = None


def start_runtime(app: Flask) -> BotManager:
    """Start the bots (and the scheduler hook) once per process; a second call returns the running manager."""
    global _manager, _scheduler_stop
    with _lock:
        if _manager is None:
            _manager = BotManager(app).start()
            _scheduler_stop = start_scheduler_hook(app)
            log.info("runtime started: bots in %s mode", _manager.mode)
        return _manager


def stop_runtime() -> None:
    """Stop what start_runtime started; harmless when nothing runs."""
    global _manager, _scheduler_stop
    with _lock:
        manager, stop_scheduler = _manager, _scheduler_stop
        _manager, _scheduler_stop = None, None
    if stop_scheduler is not None:
        stop_scheduler()
    if manager is not None:
        manager.stop()


def current_manager() -> BotManager | None:
    return _manager


def start_scheduler_hook(app: Flask):
    """HOOK for the jobs engineer: start app/scheduler.py's jobs and return a function that stops them.

    Does nothing until app.scheduler (branch jobs) is merged. This path has no leader election: it is
    for one process (`make run`); production runs app.runtime's leader-elected Runtime, which starts
    BotManager(app) itself.
    """
    try:
        from app.scheduler import build_scheduler
    except ImportError:
        return None
    scheduler = build_scheduler(app)
    scheduler.start()
    return lambda: scheduler.shutdown(wait=False)
