"""Telegram bots, their feature flags and settings, and API tokens."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, one_of, utcnow


class BotStatus(str, enum.Enum):
    RUNNING = "running"
    STOPPED = "stopped"
    ERROR = "error"


class Bot(db.Model):
    """One Telegram bot of a tenant. The token is only ever held encrypted."""

    __tablename__ = "bots"
    __table_args__ = (one_of("status", [s.value for s in BotStatus], "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    #: Fernet ciphertext of the token; read and write it through app.services.crypto.
    token_encrypted: Mapped[bytes] = mapped_column(sa.LargeBinary)
    #: sha256 of the token, to refuse the same token twice without decrypting every row.
    token_fingerprint: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: Last four characters of the token, the only part ever shown.
    token_hint: Mapped[str] = mapped_column(sa.String(8))
    telegram_bot_id: Mapped[int] = mapped_column(sa.BigInteger)
    username: Mapped[str] = mapped_column(sa.String(64))
    first_name: Mapped[Optional[str]] = mapped_column(sa.String(128))
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Secret Telegram echoes in X-Telegram-Bot-Api-Secret-Token on webhook calls.
    webhook_secret: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(10), default=BotStatus.STOPPED.value)
    last_error: Mapped[Optional[str]] = mapped_column(sa.String(500))
    last_seen_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: Bumped on every change the running bot must pick up (token, active flag).
    config_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tenant = relationship("Tenant")
    feature_flags: Mapped[list[FeatureFlag]] = relationship(back_populates="bot", cascade="all, delete-orphan")
    settings: Mapped[list[BotSetting]] = relationship(back_populates="bot", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Bot {self.id} @{self.username} tenant={self.tenant_id}>"


class FeatureFlag(db.Model):
    """A bot feature switched on or off (card_to_card, promocodes, referrals, leaderboard, daily_quota)."""

    __tablename__ = "feature_flags"
    __table_args__ = (sa.UniqueConstraint("bot_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(sa.ForeignKey("bots.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(40))
    enabled: Mapped[bool] = mapped_column(default=True)
    config: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    bot: Mapped[Bot] = relationship(back_populates="feature_flags")


class BotSetting(db.Model):
    """A bot setting (admin_chat_ids, welcome_text, support_contact, quotas) as JSON."""

    __tablename__ = "bot_settings"
    __table_args__ = (sa.UniqueConstraint("bot_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(sa.ForeignKey("bots.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(40))
    value: Mapped[Any] = mapped_column(sa.JSON)

    bot: Mapped[Bot] = relationship(back_populates="settings")


class ApiToken(db.Model):
    """A tenant's API token; only its hash and a short prefix are stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    #: sha256 of the full token.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: First characters of the token, shown so owners can tell tokens apart.
    prefix: Mapped[str] = mapped_column(sa.String(12))
    #: What the token may do: read, members:write, money, bots:admin, receipts, webhooks.
    scopes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
