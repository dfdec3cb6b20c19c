"""The runtime: the scheduler and the bots, run only by the process that holds the leader lock.

Every web worker (and `flask runtime`) starts a Runtime. Its elector thread tries the lock every
few seconds; the holder starts the components and writes a heartbeat; a holder whose lock connection
breaks stops them and competes again, so a crashed or cut-off leader is replaced. While the database
does not answer at all (an outage: nobody can take the lock) the holder keeps its components for a
grace period, so polling bots go on answering "temporarily unavailable".
"""
from __future__ import annotations

import logging
import threading
import time

from app.extensions import db
from app.runtime import heartbeat
from app.runtime.components import default_components
from app.runtime.leader import leader_lock_for
from app.services import clock
from app.unit_of_work import unit_of_work
from app.worker.pool import default_pool

log = logging.getLogger(__name__)

#: Seconds between lock attempts (non-leaders) and between heartbeats (the leader).
DEFAULT_INTERVAL = 2.0
#: Seconds a leader cut off from the database keeps its components before it gives up the lead.
DEFAULT_OUTAGE_GRACE = 30.0


class Runtime:
    def __init__(self, app, lock=None, components=None, interval: float | None = None, pool=None):
        self.app = app
        #: Delivers the outbox in this process, leader or not (None when QUEUE_URL names a broker).
        self.pool = default_pool(app) if pool is None else pool
        self.lock = lock or leader_lock_for(app)
        self.components = default_components(app) if components is None else components
        self.interval = interval or app.config.get("RUNTIME_INTERVAL_SECONDS", DEFAULT_INTERVAL)
        self.outage_grace = app.config.get("RUNTIME_OUTAGE_GRACE_SECONDS", DEFAULT_OUTAGE_GRACE)
        self.leading_since = None
        self._cut_off_since: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def is_leader(self) -> bool:
        return self.leading_since is not None

    def start(self) -> Runtime:
        if self.pool:
            self.pool.start()
        self._thread = threading.Thread(target=self._run, name="botfleet-runtime", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        """Stop competing, stop the components and free the lock."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._step_down()
        self.lock.close()
        if self.pool:
            self.pool.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:
                log.exception("runtime: elector step failed")
            self._stop.wait(self.interval)

    def step(self) -> None:
        """One round: keep or lose the lead, or try to take it."""
        if self.is_leader:
            self._keep_lead()
        elif self.lock.try_acquire():
            self._lead()

    def _keep_lead(self) -> None:
        if self.lock.still_held() or self.lock.try_acquire():
            self._cut_off_since = None
            self._beat()
        elif not (self.lock.unreachable and self._within_outage_grace()):
            self._step_down()

    def _within_outage_grace(self) -> bool:
        """True while a leader that cannot reach the database at all may keep its components."""
        now = time.monotonic()
        if self._cut_off_since is None:
            self._cut_off_since = now
            log.warning("runtime: the database does not answer; keeping the components for up to %.0f s",
                        self.outage_grace)
        return now - self._cut_off_since < self.outage_grace

    def _lead(self) -> None:
        self.leading_since = clock.now()
        log.info("runtime: this process is the leader; starting %s",
                 ", ".join(c.name for c in self.components))
        for component in self.components:
            try:
                component.start()
            except Exception:
                log.exception("runtime: could not start %s", component.name)
        self._beat()

    def _step_down(self) -> None:
        if not self.is_leader:
            return
        log.warning("runtime: leadership lost or given up; stopping the components")
        for component in reversed(self.components):
            try:
                component.stop()
            except Exception:
                log.exception("runtime: could not stop %s", component.name)
        self.leading_since = self._cut_off_since = None
        self.lock.release()

    def _beat(self) -> None:
        with self.app.app_context():
            try:
                with unit_of_work():
                    heartbeat.beat(self.leading_since, components=[c.name for c in self.components if c.running])
            except Exception as err:
                log.warning("runtime: heartbeat not written (%s)", err.__class__.__name__)
            finally:
                db.session.remove()


def start_runtime(app) -> Runtime | None:
    """Start competing for the lead, unless RUNTIME_ENABLED is off for this process."""
    if not app.config.get("RUNTIME_ENABLED", True):
        log.info("runtime: disabled by RUNTIME_ENABLED")
        return None
    return Runtime(app).start()
