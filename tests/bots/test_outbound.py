"""Messages that leave through the outbox reach members through the sandbox, after commit, once."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from app.models import Member, OutboxMessage, Subscription
from app.services import clock
from bots.i18n import t

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
