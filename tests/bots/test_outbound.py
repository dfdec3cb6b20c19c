"""Messages that leave through the outbox reach members through the sandbox, after commit, once."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import requests
import sqlalchemy as sa

from app.models import Member, OutboxMessage, Receipt, Subscription
from app.models.types import utcnow
from app.services import clock
from bots.i18n import t
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


def _subscription_ending(db, make, tenant, member, ends_in: timedelta) -> Subscription:
    now = clock.now()
    sub = Subscription(tenant_id=tenant.id, member_id=member.id, plan_id=make.plan(tenant, name="Gold").id,
                       status="active", starts_at=now - timedelta(days=29), ends_at=now + ends_in, source="balance")
    db.session.add(sub)
    db.session.commit()
    return sub


def test_flask_jobs_run_subscriptions_without_a_runtime_delivers_the_reminder(app, db, make, fleet, database_url):
    """A CLI process has no worker: its unit of work delivers what it committed before the command ends."""
    tenant = make.tenant()
    bot = make.bot(tenant)
    fleet.add(bot)
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    member = db.session.scalar(sa.select(Member))
    _subscription_ending(db, make, tenant, member, timedelta(hours=20))
    env = {**os.environ, "BOTFLEET_ENV": "production", "DATABASE_URL": database_url, "SECRET_KEY": "cli-test",
           "TOKEN_ENCRYPTION_KEY": app.config["TOKEN_ENCRYPTION_KEY"], "RUNTIME_ENABLED": "0",
           "TELEGRAM_API_URL": app.config["TELEGRAM_API_URL"]}
    env.pop("QUEUE_URL", None)

    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "run", "subscriptions"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    last = sara.bot_messages()[-1]
    assert last["text"].startswith(t("en", "notice.subscription_reminder_1d", plan_name="Gold", ends_at="")[:20])
    db.session.expire_all()
    [row] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert (row.status, row.result["message_id"]) == ("done", last["message_id"])


def test_a_rate_limited_reply_waits_in_the_outbox_and_no_request_waits_for_it(conversation_app, live_app, sandbox,
                                                                              make, make_bot, db, monkeypatch):
    """Sandbox limit 0.025 msg/s (one per 40 s): the second /start's reply gets 429 retry_after≈40. The webhook
    request still answers at once (its update committed, the reply queued) and so does GET /login.

    The replies here take the outbox's way (a reply thread sends the row): the webhook's answer, which an update's
    one reply usually is (bots/replies.py), is Telegram's to make, and nobody hears of its 429."""
    from bots import replies
    from tests.engine.test_webhook import post_update, start_update

    monkeypatch.setattr(replies, "answer_for", lambda telebot, calls: None)

    bot = make_bot(make.tenant())
    base = live_app.config["PUBLIC_BASE_URL"]
    sandbox.post("/sandbox/rate-limit", {"bot_id": bot.telegram_bot_id, "per_second": 0.025})
    # The sandbox learns the chat (no webhook is set, so this update only waits in getUpdates).
    sandbox.post("/sandbox/updates", {"bot_id": bot.telegram_bot_id, "from": {"id": 501, "first_name": "Tester"},
                                      "text": "hi"})
    assert post_update(live_app, bot, start_update(1)).status_code == 200  # uses the budget
    requests.get(f"{base}/login", timeout=30)  # the first render compiles the page: not what is timed below

    started = time.monotonic()
    response = post_update(live_app, bot, start_update(2))
    webhook_seconds = time.monotonic() - started
    started = time.monotonic()
    login = requests.get(f"{base}/login", timeout=10)
    login_seconds = time.monotonic() - started

    assert response.status_code == 200 and login.status_code == 200

    def second_reply_waits():
        db.session.expire_all()
        row = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.key == f"replies:{bot.id}:2")).one()
        return row if row.status == "pending" and row.not_before - utcnow() > timedelta(seconds=30) else None
    row = wait_until(second_reply_waits, 10, message="the 429'd reply rescheduled after retry_after")
    assert (row.kind, row.last_error) == ("telegram.calls", "Telegram rate limit (429)")  # not a thread waiting
    first = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.key == f"replies:{bot.id}:1")).one()
    assert first.status == "done"
    sends = sandbox.calls(bot.telegram_bot_id, "sendMessage")
    assert [c["error_code"] for c in sends] == [None, 429]
    assert webhook_seconds < 1 and login_seconds < 1, (webhook_seconds, login_seconds)


#: A worker process that delivers the outbox and freezes just before acknowledging a row (after the handler
#: made its send and recorded Telegram's message_id), so the test can kill -9 it right there.
FREEZING_WORKER = """
import sys, threading
from app import create_app
from app.worker import delivery, load_handlers
app = create_app()
load_handlers()
def freeze(*args, **kwargs):
    print("sent, not acknowledged", flush=True)
    threading.Event().wait()
delivery._finish = freeze
delivery.drain(app)
"""


def test_a_worker_killed_between_send_and_ack_does_not_send_twice(app, db, make, fleet, database_url,
                                                                   drain_outbox):
    from bots import outbound

    tenant = make.tenant()
    bot = make.bot(tenant)
    fleet.add(bot)
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    outbound.send_later(bot, sara.chat_id, "Your order shipped", key="order:1:shipped")
    db.session.commit()
    env = {**os.environ, "BOTFLEET_ENV": "production", "DATABASE_URL": database_url, "SECRET_KEY": "kill-test",
           "TOKEN_ENCRYPTION_KEY": app.config["TOKEN_ENCRYPTION_KEY"], "RUNTIME_ENABLED": "0",
           "TELEGRAM_API_URL": app.config["TELEGRAM_API_URL"]}
    worker = subprocess.Popen([sys.executable, "-c", FREEZING_WORKER], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        assert worker.stdout.readline().strip() == "sent, not acknowledged", worker.stderr.read()
    finally:
        worker.kill()  # SIGKILL
        worker.wait(10)
    assert sara.last_text() == "Your order shipped"
    db.session.expire_all()
    [row] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert row.status == "sending"  # never acknowledged

    [again] = drain_outbox(ahead=timedelta(seconds=61))  # after the dead worker's lease

    assert (again.status, again.attempts) == ("done", 2)
    assert [m["text"] for m in sara.bot_messages()].count("Your order shipped") == 1


def test_a_telegram_decision_whose_commit_fails_tells_nobody(db, make, fleet, card_shop, png, outbox_rows):
    """The approval's commit is refused: the member hears nothing, the admin copy keeps its buttons."""
    from tests.bots.conftest import ADMIN_ID

    tenant, bot = card_shop
    sara = fleet.user(bot, language_code="en")
    admin = fleet.user(bot, user_id=ADMIN_ID, language_code="en")
    sara.tops_up_with_photo(png)
    receipt = db.session.scalar(sa.select(Receipt))
    told_before = sara.bot_messages()
    refused = []

    def refuse_once(session):
        if not refused:
            refused.append(session)
            raise sa.exc.OperationalError("COMMIT", {}, Exception("injected: could not serialize access"))
    sa.event.listen(sa.orm.Session, "before_commit", refuse_once)
    try:
        admin.presses(f"ra:{receipt.id}")
    finally:
        sa.event.remove(sa.orm.Session, "before_commit", refuse_once)
    assert refused and len(fleet.errors) == 1
    fleet.errors.clear()

    db.session.expire_all()
    assert db.session.get(Receipt, receipt.id).status == "pending_review"
    assert sara.bot_messages() == told_before
    assert [row.kind for row in outbox_rows()] == ["receipt.admin_copies"]  # only the submission's
    [copy] = admin.bot_messages()
    assert not copy["edited"] and f"ra:{receipt.id}" in str(copy["reply_markup"])
