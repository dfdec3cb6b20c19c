"""The outbox fixtures every test can use (registered by tests/conftest.py as a plugin).

`drain_outbox()` delivers, in the test's thread, every committed outbox row that is due (each at most
once per call) through the registered handlers, and returns the rows it delivered, fresh from the
database. Commit what you want delivered first: the drain runs in its own session.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa


@pytest.fixture
def drain_outbox(app, db):
    from app.models import OutboxMessage
    from app.models.types import utcnow
    from app.services import outbox
    from app.worker import delivery, load_handlers

    load_handlers()

    def drain(*, ahead: timedelta | None = None, until: datetime | None = None) -> list:
        """Deliver what is due now (or by `until`, or `ahead` from now); the delivered rows."""
        if db.session.info.get(outbox.ENQUEUED):
            raise AssertionError("drain_outbox: the test's session has uncommitted outbox rows; commit first")
        if ahead is not None:
            until = utcnow() + ahead
        ids = delivery.drain(app, until=until)
        db.session.expire_all()
        outbox.take_committed()
        if not ids:
            return []
        return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.id.in_(ids))
                                       .order_by(OutboxMessage.id)))
    return drain


@pytest.fixture
def outbox_rows(db):
    """outbox_rows(kind=None): the outbox rows written so far (committed or in the test's session)."""
    from app.models import OutboxMessage

    def rows(kind: str | None = None) -> list:
        query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        return list(db.session.scalars(query))
    return rows
