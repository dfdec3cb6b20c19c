"""Accounts, tenants and who may do what in which tenant."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, Optional

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models.types import Money, UTCDateTime, one_of, utcnow


class Role(str, enum.Enum):
    OWNER = "owner"
    APPROVER = "approver"
    VIEWER = "viewer"
    #: Answers support tickets and reads members; sees nothing else.
    SUPPORT = "support"


class CardRotation(str, enum.Enum):
    ROUND_ROBIN = "round_robin"
    RANDOM = "random"
    WEIGHTED = "weighted"
    TIME_BASED = "time_based"
    LEAST_RECEIVED = "least_received"


class Account(UserMixin, db.Model):
    """A dashboard login."""

    __tablename__ = "accounts"
    __table_args__ = (sa.Index("uq_accounts_email_lower", sa.func.lower(sa.column("email")), unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored as typed; uniqueness and look-ups ignore case.
    email: Mapped[str] = mapped_column(sa.String(254))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    display_name: Mapped[Optional[str]] = mapped_column(sa.String(120))
    is_platform_admin: Mapped[bool] = mapped_column(default=False)
    #: Named is_enabled because Flask-Login's UserMixin owns is_active.
    is_enabled: Mapped[bool] = mapped_column(default=True)
    #: Preferred dashboard language (fa, en).
    language: Mapped[Optional[str]] = mapped_column(sa.String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: The client address of the last successful sign-in: the per-account throttle ceiling spares it.
    last_login_address: Mapped[Optional[str]] = mapped_column(sa.String(64))
    #: Part of every session's user id: bumping it (sign-out, password change) ends all other sessions.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")

    memberships: Mapped[list[Membership]] = relationship(back_populates="account")

    @property
    def is_active(self) -> bool:
        return self.is_enabled

    def get_id(self) -> str:
        """Flask-Login's id in the session and remember cookie: a stale version no longer signs in."""
        return f"{self.id}:{self.session_version}"

    def end_sessions(self) -> None:
        """Every session and remember cookie issued so far stops working."""
        self.session_version = (self.session_version or 1) + 1

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=password_hash_method())

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.email}>"


def password_hash_method() -> str:
    """werkzeug's method for new password hashes: the app's PASSWORD_HASH_METHOD (scrypt; only the test
    suite's configuration picks a cheap one), scrypt outside an app. Checking reads the method off each hash."""
    method = current_app.config.get("PASSWORD_HASH_METHOD") if has_app_context() else None
    return method or "scrypt"


class Tenant(db.Model):
    """A business selling subscriptions through its bots."""

    __tablename__ = "tenants"
    __table_args__ = (
        one_of("card_rotation_strategy", [s.value for s in CardRotation], "card_rotation_strategy"),
        sa.CheckConstraint("wallet_credit_limit >= 0", name="wallet_credit_limit_nonneg"),
        sa.CheckConstraint("wallet_balance >= -wallet_credit_limit", name="wallet_within_credit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: IANA zone name; "today" and the daily reset follow it.
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Asia/Tehran")
    default_language: Mapped[str] = mapped_column(sa.String(5), default="fa")
    card_rotation_strategy: Mapped[str] = mapped_column(sa.String(20), default=CardRotation.ROUND_ROBIN.value)
    #: Minutes one card stays in use under the time_based strategy.
    card_rotation_minutes: Mapped[int] = mapped_column(default=60)
    receipt_timeout_hours: Mapped[int] = mapped_column(default=24)
    #: The tenant's prepaid account with the platform, in Toman; may dip to -wallet_credit_limit.
    wallet_balance: Mapped[int] = mapped_column(Money, default=0)
    wallet_credit_limit: Mapped[int] = mapped_column(Money, default=0)
    traffic_sold_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    traffic_consumed_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: Tenant-tunable rules (XP rates, level table, quotas, referral bonus); see services for keys.
    settings: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: The tenant-local day whose daily reset has run; lets a missed midnight be caught up.
    last_daily_reset_day: Mapped[Optional[date]] = mapped_column(sa.Date)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Fernet ciphertext of the tenant's Zarinpal merchant id (see app.services.payments.online); None: no gateway.
    zarinpal_merchant_encrypted: Mapped[Optional[bytes]] = mapped_column(sa.LargeBinary)
    #: A new random value at every change of the tenant's webhook endpoints (app/services/webhooks.py): a process
    #: keeps the active endpoints per tenant and reads them again when the tenant row it reads shows another one.
    webhooks_version: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")

    memberships: Mapped[list[Membership]] = relationship(back_populates="tenant")

    def __repr__(self) -> str:
        return f"<Tenant {self.id} {self.slug}>"


class Membership(db.Model):
    """An account's role in one tenant."""

    __tablename__ = "memberships"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "tenant_id"),
        one_of("role", [r.value for r in Role], "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"))
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[Account] = relationship(back_populates="memberships")
    tenant: Mapped[Tenant] = relationship(back_populates="memberships")


class StaffInvitation(db.Model):
    """A one-time link an owner gives to a new approver or viewer."""

    __tablename__ = "staff_invitations"
    __table_args__ = (one_of("role", [r.value for r in Role], "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(10))
    #: sha256 of the secret in the link; the link itself is shown once.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_account_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    used_by_account_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("accounts.id", ondelete="SET NULL"))


class PlatformSetting(db.Model):
    """Platform-wide settings such as wholesale prices (key → JSON value)."""

    __tablename__ = "platform_settings"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
