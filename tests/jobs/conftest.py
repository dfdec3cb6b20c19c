"""Fixtures for the job tests: a captured notifier and a job runner on a frozen clock."""
from __future__ import annotations

import pytest

from app.services import clock, notify


@pytest.fixture
def told():
    """Every notice sent, as (member_id, text_key, params)."""
    sent = []
    notify.set_notifier(lambda member, key, **params: sent.append((member.id, key, params)))
    yield sent
    notify.set_notifier(None)


@pytest.fixture
def run_job(app, db):
    """run_job(job_id, at=aware datetime): one scheduled run, in its own context, at that instant."""
    from app.scheduler import run_now

    def run(job_id, at):
        with clock.frozen(at):
            run_now(app, job_id)
        db.session.expire_all()
    return run
