"""Operational records: audit log, daily stats, notices, processed webhook updates."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import Money, UTCDateTime, utcnow


class AuditLog(db.Model):
    """Who did what to which object, for the owner to read."""

    __tablename__ = "audit_logs"
    __table_args__ = (sa.Index("ix_audit_logs_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None for platform-level actions.
    tenant_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    #: e.g. account:3, telegram:12345, system.
    actor: Mapped[str] = mapped_column(sa.String(64))
    #: Dotted verb, e.g. receipt.approve, member.adjust_balance.
    action: Mapped[str] = mapped_column(sa.String(64))
    #: e.g. receipt:42.
    target: Mapped[Optional[str]] = mapped_column(sa.String(64))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TenantNotice(db.Model):
    """An alert for a tenant's owner, shown in the dashboard until read."""

    __tablename__ = "tenant_notices"
    __table_args__ = (sa.Index("ix_tenant_notices_tenant_read", "tenant_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    #: e.g. wallet_insufficient.
    kind: Mapped[str] = mapped_column(sa.String(40))
    message: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class DailyStat(db.Model):
    """One tenant-local day's figures, snapshotted by the scheduler for the charts."""

    __tablename__ = "daily_stats"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(sa.Date)
    revenue: Mapped[int] = mapped_column(Money, default=0)
    new_members: Mapped[int] = mapped_column(default=0)
    active_members: Mapped[int] = mapped_column(default=0)
    approvals: Mapped[int] = mapped_column(default=0)
    rejections: Mapped[int] = mapped_column(default=0)
    #: Members whose first paid purchase (balance or receipt) was on this day.
    new_buyers: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Members who bought on this day and had bought before it.
    returning_buyers: Mapped[int] = mapped_column(default=0, server_default="0")
    traffic_sold_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    traffic_consumed_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProcessedUpdate(db.Model):
    """A Telegram update already handled, so a redelivery is dropped."""

    __tablename__ = "processed_updates"
    __table_args__ = (sa.Index("ix_processed_updates_processed_at", "processed_at"),)

    bot_id: Mapped[int] = mapped_column(sa.ForeignKey("bots.id", ondelete="CASCADE"), primary_key=True)
    update_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BackupRun(db.Model):
    """One run of `flask backup` or the scheduled backup; the platform admin page shows the latest."""

    __tablename__ = "backup_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ok or failed.
    status: Mapped[str] = mapped_column(sa.String(10))
    #: Where the sealed copy went (a path or s3://…); None when the run failed before storing it.
    location: Mapped[Optional[str]] = mapped_column(sa.String(500))
    size_bytes: Mapped[Optional[int]] = mapped_column(sa.BigInteger)
    #: Why it failed, for the platform admin (never contains a secret: messages come from our code).
    error: Mapped[Optional[str]] = mapped_column(sa.String(500))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
