"""Pruning of records that only matter for a short while."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import ProcessedUpdate

#: A Telegram redelivery comes within hours; older update ids are not needed for deduplication.
PROCESSED_UPDATE_RETENTION = timedelta(hours=48)


def prune_processed_updates(now: datetime) -> int:
    """Delete processed update ids older than the retention; return how many."""
    result = db.session.execute(
        sa.delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < now - PROCESSED_UPDATE_RETENTION),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount
