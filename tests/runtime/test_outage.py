"""Postgres stopped for 20 s under traffic: quick 503s, recovery within 5 s, nothing lost or doubled.

Bots take part: a polling bot answers "temporarily unavailable" during the outage and goes on, and a
webhook bot's update gets 500 until the database is back, then is processed exactly once.
"""
from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from telebot import apihelper
from werkzeug.serving import make_server

from bots.emulator import RetryPolicy
from bots.i18n import t
from tests import pg_cluster
from tests.waiting import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
OUTAGE_SECONDS = 20
POLLING_TOKEN, WEBHOOK_TOKEN = "7200001:outage-polling-bot", "7200002:outage-webhook-bot"
POLLING_USER, WEBHOOK_USER = 555, 556
GIFT = 5_000
# Webhook retries as Telegram's: no cap on tries and an update kept for a day (the sandbox's default
# retention), so a 20 s outage loses nothing. Only the backoff is capped at 2 s instead of minutes, so
# the redelivery after the outage comes within seconds and the test stays short.
TELEGRAM_LIKE_WEBHOOKS = RetryPolicy(max_delay=2.0)
BOT_CONFIG = {"BOT_MODE": "polling", "BOT_POLL_TIMEOUT": 1, "BOT_SYNC_INTERVAL": 0.5, "BOT_MAX_BACKOFF": 1.0,
              "BOT_HANDLERS": "bots.handlers:register_all"}


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
def sandbox(start_sandbox):
    saved_api = apihelper.API_URL, apihelper.FILE_URL, apihelper.CUSTOM_REQUEST_SENDER
    client = start_sandbox(retry_policy=TELEGRAM_LIKE_WEBHOOKS)
    for token in (POLLING_TOKEN, WEBHOOK_TOKEN):
        client.post("/sandbox/bots", {"token": token})
    yield client
    apihelper.API_URL, apihelper.FILE_URL, apihelper.CUSTOM_REQUEST_SENDER = saved_api


@pytest.fixture
def outage_app(cluster, sandbox, tmp_path):
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from config import TestConfig

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=cluster.url, TELEGRAM_API_URL=sandbox.url, **BOT_CONFIG)
    app.instance_path = str(tmp_path / "instance")
    app.wsgi_app = AnswerLog(app.wsgi_app)
    with app.app_context():
        upgrade()
        _seed(app)
    yield app
    with app.app_context():
        db.engine.dispose()


def _seed(app):
    """A tenant with a member (the traffic's) and a polling bot; another with a bot and a promo code."""
    from app.extensions import db
    from app.services import bots, members, promocodes, tenancy

    owner = tenancy.create_account("outage@example.com", "pw-outage-42")
    tenant, other = tenancy.create_tenant("Outage", owner), tenancy.create_tenant("Webhooks", owner)
    member = members.create_member(tenant, 777)
    for shop, token in ((tenant, POLLING_TOKEN), (other, WEBHOOK_TOKEN)):
        tg_id = int(token.split(":")[0])
        bot = bots.create_bot(shop, token, telegram_bot_id=tg_id, username=f"sandbox{tg_id}_bot")
    promocodes.create_promocode(other, code="GIFT", kind="balance", value=GIFT)
    db.session.commit()
    app.config.update(OUTAGE_MEMBER_ID=member.id, WEBHOOK_BOT_ID=bot.id, WEBHOOK_SECRET=bot.webhook_secret)


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
                    time.sleep(0.1)               # deliberate: a redelivery pause, as Telegram's
                finally:
                    db.session.remove()

    def probe_forever(self):
        while not self.stop.is_set():
            started = time.monotonic()
            status = requests.get(f"{self.base_url}/healthz", timeout=10).status_code
            self.probes.append((started, status, time.monotonic() - started))
            time.sleep(0.2)                       # deliberate: the probe's pace

    def first_success_after(self, moment):
        writes = [t for t, ok in self.writes if ok and t > moment]
        probes = [t for t, status, _ in self.probes if status == 200 and t > moment]
        return (min(writes) if writes else None), (min(probes) if probes else None)


class Bots:
    """The polling bot and the webhook bot, as a member sees them in the sandbox."""

    def __init__(self, sandbox, app, base_url):
        self.sandbox, self.app, self.base_url = sandbox, app, base_url
        self.polling, self.webhook = (int(token.split(":")[0]) for token in (POLLING_TOKEN, WEBHOOK_TOKEN))
        self.webhook_update_id = None

    def texts(self, bot, user):
        return self.sandbox.bot_texts(bot, user)

    def polling_answers(self, key, timeout=10):
        before = len(self.texts(self.polling, POLLING_USER))
        self.sandbox.say(self.polling, POLLING_USER, "/start")
        expected = t("en", key, name="Tester")
        return wait_for(lambda: expected in self.texts(self.polling, POLLING_USER)[before:], timeout=timeout)

    def switch_to_webhook(self):
        """Once the runtime's loop polled the webhook bot, give it a webhook to our server (its loop
        then meets 409 and backs off; the sandbox delivers to /tg/<id>, as Telegram would)."""
        assert wait_for(lambda: self.sandbox.calls(self.webhook, "getUpdates"), timeout=10)
        answer = requests.post(f"{self.sandbox.url}/bot{WEBHOOK_TOKEN}/setWebhook", timeout=5, json={
            "url": f"{self.base_url}/tg/{self.app.config['WEBHOOK_BOT_ID']}",
            "secret_token": self.app.config["WEBHOOK_SECRET"]})
        assert answer.json()["ok"], answer.text

    def during_outage(self):
        """A member writes to each bot while the database is down (once the app has noticed it)."""
        assert wait_for(lambda: requests.get(f"{self.base_url}/healthz", timeout=10).status_code != 200,
                        timeout=10), "/healthz never noticed the outage"
        assert self.polling_answers("error.unavailable"), self.texts(self.polling, POLLING_USER)
        self.webhook_update_id = self.sandbox.say(self.webhook, WEBHOOK_USER, "/start promo_GIFT")["update_id"]
        assert wait_for(lambda: len(self.webhook_answers()) >= 3, timeout=10)   # refused, and offered again
        assert set(self.webhook_answers()) == {500}
        assert self.texts(self.webhook, WEBHOOK_USER) == []

    def webhook_answers(self):
        return [status for path, status in self.app.wsgi_app.answers if path.startswith("/tg/")]


class AnswerLog:
    """WSGI middleware that notes (path, status) of every answer."""

    def __init__(self, wsgi_app):
        self.wsgi_app, self.answers = wsgi_app, []

    def __call__(self, environ, start_response):
        def noting(status, headers, *args):
            self.answers.append((environ["PATH_INFO"], int(status.split()[0])))
            return start_response(status, headers, *args)
        return self.wsgi_app(environ, noting)


def test_an_outage_gives_quick_errors_and_a_recovery_within_5_seconds(cluster, outage_app, sandbox):
    from app.runtime import Runtime

    server = make_server("127.0.0.1", 0, outage_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_port}"
    runtime = Runtime(outage_app, interval=0.5).start()
    traffic, bots = Traffic(outage_app, base_url), Bots(sandbox, outage_app, base_url)
    threads = [threading.Thread(target=traffic.write_forever), threading.Thread(target=traffic.probe_forever)]
    for thread in threads:
        thread.start()
    try:
        assert wait_for(lambda: runtime.is_leader, timeout=10)
        assert bots.polling_answers("start.welcome_new")
        bots.switch_to_webhook()
        down_at, up_at = _outage(cluster, during=bots.during_outage)
        assert wait_for(lambda: all(traffic.first_success_after(up_at)), timeout=15)
        assert runtime.is_leader                          # it kept the lead (and the bots) throughout
        assert bots.polling_answers("start.welcome_back")
        _assert_webhook_update_processed_once(outage_app, bots)
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


def _outage(cluster, during):
    time.sleep(2)                                         # deliberate: a stretch of normal traffic first
    cluster.stop()
    down_at = time.monotonic()
    try:
        during()
    finally:
        time.sleep(max(0.0, down_at + OUTAGE_SECONDS - time.monotonic()))   # deliberate: the outage's length
        cluster.start()
    return down_at, time.monotonic()


def _assert_webhook_update_processed_once(app, bots):
    from app.extensions import db
    from app.models import LedgerEntry, Member, ProcessedUpdate, PromocodeRedemption

    welcome = t("en", "start.welcome_new", name="Tester")
    assert wait_for(lambda: welcome in bots.texts(bots.webhook, WEBHOOK_USER), timeout=15)
    # the sandbox has nothing left to redeliver: a second (wrong) processing would have been seen now
    assert wait_for(lambda: bots.sandbox.raw("getWebhookInfo", WEBHOOK_TOKEN).json()["result"]
                    ["pending_update_count"] == 0, timeout=15)
    assert bots.texts(bots.webhook, WEBHOOK_USER).count(welcome) == 1
    with app.app_context():
        member = db.session.scalar(sa.select(Member).where(Member.telegram_id == WEBHOOK_USER))
        entries = db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.member_id == member.id)).all()
        assert member.balance == GIFT and [e.amount for e in entries] == [GIFT]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PromocodeRedemption)) == 1
        processed = db.session.scalars(sa.select(ProcessedUpdate.update_id).where(
            ProcessedUpdate.bot_id == app.config["WEBHOOK_BOT_ID"])).all()
        assert processed == [bots.webhook_update_id]
        db.session.remove()
    [delivery] = [d for d in bots.sandbox.get("/sandbox/webhook-deliveries", bot_id=bots.webhook)["deliveries"]
                  if d["update_id"] == bots.webhook_update_id]
    # Answered 500 through the outage, kept (not dropped as before), and delivered once it was back.
    assert delivery["delivered"] and not delivery["dropped"] and delivery["attempts"] >= 4, delivery


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
        assert member.balance == committed == db.session.scalar(
            sa.select(sa.func.sum(LedgerEntry.amount)).where(LedgerEntry.member_id == member.id))
        advisory = db.session.scalar(sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"))
        assert advisory == 0                        # the runtime stopped and gave the lock back
        db.session.remove()

