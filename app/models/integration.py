"""Integration API records: idempotent responses, event webhook endpoints and their delivery log."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class IdempotencyRecord(db.Model):
    """The first response to an API request sent with an Idempotency-Key, replayed for a repeat."""

    __tablename__ = "idempotency_records"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(128))
    #: sha256 of method, path and the canonical JSON body: another request under the key is a conflict.
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    #: None while the first request is still running (its transaction holds the row).
    status_code: Mapped[Optional[int]] = mapped_column()
    response_body: Mapped[Optional[Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookEndpoint(db.Model):
    """A URL of a sibling service that receives the tenant's events, signed with its secret."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (sa.Index("ix_webhook_endpoints_tenant_id", "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(sa.String(500))
    description: Mapped[Optional[str]] = mapped_column(sa.String(200))
    #: Fernet ciphertext of the signing secret (app.services.crypto).
    secret_encrypted: Mapped[bytes] = mapped_column(sa.LargeBinary)
    #: Event types sent here; empty means every event.
    events: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Deliveries that gave up in a row; reset by a success. Too many disable the endpoint.
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    disabled_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(db.Model):
    """One event sent (or being sent) to one endpoint: the delivery log an owner reads."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (sa.Index("ix_webhook_deliveries_endpoint_id", "endpoint_id", "id"),
                      sa.Index("ix_webhook_deliveries_tenant_id", "tenant_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    #: The event's id, the same in every delivery (and resend) of that event: receivers dedupe on it.
    event_id: Mapped[str] = mapped_column(sa.String(40))
    event_type: Mapped[str] = mapped_column(sa.String(40))
    #: The exact JSON body sent: {"id", "type", "created_at", "tenant", "data"}.
    body: Mapped[str] = mapped_column(sa.Text)
    #: pending, delivered, failed.
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_status_code: Mapped[Optional[int]] = mapped_column()
    last_error: Mapped[Optional[str]] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    endpoint: Mapped[WebhookEndpoint] = relationship()
