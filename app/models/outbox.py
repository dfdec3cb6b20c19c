"""The transactional outbox: every effect outside the database, written with the change that causes it."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, one_of, utcnow


class OutboxStatus(str, enum.Enum):
    #: Waiting for `not_before`.
    PENDING = "pending"
    #: Claimed by a worker until `not_before` (its lease); due again if the worker died.
    SENDING = "sending"
    DONE = "done"
    #: Given up (Permanent, or too many attempts); kept for the operator.
    DEAD = "dead"


class OutboxMessage(db.Model):
    """One outside effect (a Telegram send, an event webhook, a panel call), delivered after commit."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        one_of("status", [s.value for s in OutboxStatus], "status"),
        sa.Index("ix_outbox_messages_due", "status", "not_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None for platform-level effects.
    tenant_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    #: Which registered handler delivers it, e.g. telegram.notice.
    kind: Mapped[str] = mapped_column(sa.String(64))
    #: The idempotency key: enqueueing the same key twice is a no-op.
    key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(10), default=OutboxStatus.PENDING.value)
    #: Deliveries started so far (a claim counts as one).
    attempts: Mapped[int] = mapped_column(default=0)
    #: Due from this instant (pending), or the end of a worker's lease (sending).
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: What the outside world answered that must survive a crash, e.g. {"message_id": 42} of a send.
    result: Mapped[Optional[dict[str, Any]]] = mapped_column(sa.JSON)
    last_error: Mapped[Optional[str]] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} {self.status}>"
