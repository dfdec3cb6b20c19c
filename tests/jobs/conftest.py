"""Fixtures for the job tests: the notices the jobs committed to the outbox, and a job runner on a frozen clock."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.services import clock


class Told:
    """Every committed telegram.notice outbox row since the last clear(), as (member_id, text_key, params)."""

    def __init__(self, db):
        self.db = db
        self.after_id = 0

    def _rows(self) -> list[tuple]:
        from app.models import OutboxMessage
        from app.services.notify import KIND

        rows = self.db.session.scalars(sa.select(OutboxMessage).where(
            OutboxMessage.kind == KIND, OutboxMessage.id > self.after_id).order_by(OutboxMessage.id))
        return [(r.payload["member_id"], r.payload["text_key"], r.payload["params"]) for r in rows]

    def clear(self) -> None:
        from app.models import OutboxMessage

        self.after_id = self.db.session.scalar(sa.select(sa.func.max(OutboxMessage.id))) or 0

    def __iter__(self):
        return iter(self._rows())

    def __len__(self):
        return len(self._rows())

    def __eq__(self, other):
        return self._rows() == list(other)


@pytest.fixture
def told(db):
    return Told(db)


@pytest.fixture
def run_job(app, db):
    """run_job(job_id, at=aware datetime): one scheduled run, in its own context, at that instant."""
    from app.scheduler import run_now

    def run(job_id, at):
        with clock.frozen(at):
            run_now(app, job_id)
        db.session.expire_all()
    return run
