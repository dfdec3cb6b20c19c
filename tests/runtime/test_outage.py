"""Postgres stopped for 20 s under traffic: quick 503s, recovery within 5 s, nothing lost or doubled."""
from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from werkzeug.serving import make_server

from tests import pg_cluster
from tests.waiting import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
OUTAGE_SECONDS = 20


@pytest.fixture
def cluster():
    problem = pg_cluster.missing()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the PostgreSQL binaries for the outage test: {problem}")
        pytest.skip(f"outage test needs its own PostgreSQL cluster: {problem}")
    root = Path(tempfile.mkdtemp(prefix="botfleet-outage-"))
    cluster = pg_cluster.Cluster(root).init()
    cluster.start()
    yield cluster
    cluster.stop_if_running()


@pytest.fixture
def outage_app(cluster):
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.services import members, tenancy
    from config import TestConfig

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=cluster.url)
    with app.app_context():
        upgrade()
        tenant = tenancy.create_tenant("Outage", tenancy.create_account("outage@example.com", "pw-outage-42"))
        member = members.create_member(tenant, 777)
        db.session.commit()
        app.config["OUTAGE_MEMBER_ID"] = member.id
    yield app
    with app.app_context():
        db.engine.dispose()


class Traffic:
    """Writes like bot updates (retried until committed, like Telegram redelivers) and probes /healthz."""

    def __init__(self, app, base_url):
        self.app, self.base_url = app, base_url
        self.stop = threading.Event()
        self.committed = 0
        self.writes, self.probes = [], []          # (time, ok) and (time, status, seconds)

    def write_forever(self):
        from app.extensions import db
        from app.models import Member
        from app.services import ledger

        while not self.stop.is_set():
            with self.app.app_context():
                try:
                    member = db.session.get(Member, self.app.config["OUTAGE_MEMBER_ID"])
                    ledger.credit_member(member, 1, key=f"update:{self.committed}", kind="adjustment", actor="system")
                    db.session.commit()
                    self.committed += 1
                    self.writes.append((time.monotonic(), True))
                except sa.exc.SQLAlchemyError:
                    db.session.rollback()
                    self.writes.append((time.monotonic(), False))
                    time.sleep(0.1)
                finally:
                    db.session.remove()

    def probe_forever(self):
        while not self.stop.is_set():
            started = time.monotonic()
            status = requests.get(f"{self.base_url}/healthz", timeout=10).status_code
            self.probes.append((started, status, time.monotonic() - started))
            time.sleep(0.2)

    def first_success_after(self, moment):
        writes = [t for t, ok in self.writes if ok and t > moment]
        probes = [t for t, status, _ in self.probes if status == 200 and t > moment]
        return (min(writes) if writes else None), (min(probes) if probes else None)


def test_an_outage_gives_quick_errors_and_a_recovery_within_5_seconds(cluster, outage_app):
    from app.runtime import Runtime

    server = make_server("127.0.0.1", 0, outage_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    runtime = Runtime(outage_app, interval=0.5).start()
    traffic = Traffic(outage_app, f"http://127.0.0.1:{server.server_port}")
    threads = [threading.Thread(target=traffic.write_forever), threading.Thread(target=traffic.probe_forever)]
    for thread in threads:
        thread.start()
    try:
        down_at, up_at = _outage(cluster, runtime)
        assert wait_for(lambda: all(traffic.first_success_after(up_at)), timeout=15)
        assert wait_for(lambda: runtime.is_leader, timeout=10)
    finally:
        traffic.stop.set()
        for thread in threads:
            thread.join(15)
        runtime.stop()
        server.shutdown()
    _assert_quick_errors_during(traffic, down_at + 1, up_at)
    write_back, health_back = traffic.first_success_after(up_at)
    assert write_back - up_at < 5 and health_back - up_at < 5, (write_back - up_at, health_back - up_at)
    _assert_nothing_lost_or_doubled(outage_app, traffic.committed)


def _outage(cluster, runtime):
    assert wait_for(lambda: runtime.is_leader, timeout=10)
    time.sleep(2)
    cluster.stop()
    down_at = time.monotonic()
    time.sleep(OUTAGE_SECONDS)
    cluster.start()
    return down_at, time.monotonic()


def _assert_quick_errors_during(traffic, start, end):
    during = [(status, seconds) for t, status, seconds in traffic.probes if start < t < end - 1]
    assert len(during) > 10
    assert {status for status, _ in during} == {503}
    assert max(seconds for _, seconds in during) < 3
    assert not any(ok for t, ok in traffic.writes if start < t < end - 1)


def _assert_nothing_lost_or_doubled(app, committed):
    from app.extensions import db
    from app.models import LedgerEntry, Member

    with app.app_context():
        keys = db.session.scalars(sa.select(LedgerEntry.idempotency_key).where(
            LedgerEntry.idempotency_key.like("update:%"))).all()
        member = db.session.get(Member, app.config["OUTAGE_MEMBER_ID"])
        assert committed > 20
        assert sorted(keys) == sorted(f"update:{i}" for i in range(committed))
        assert member.balance == committed == db.session.scalar(sa.select(sa.func.sum(LedgerEntry.amount)))
        advisory = db.session.scalar(sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"))
        assert advisory == 0                        # the runtime stopped and gave the lock back
        db.session.remove()

