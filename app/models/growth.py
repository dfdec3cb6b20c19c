"""Promo codes and badges (broadcasts are in app/models/broadcasts.py)."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, one_of, utcnow


class PromocodeKind(str, enum.Enum):
    BALANCE = "balance"
    PLAN_DAYS = "plan_days"
    DISCOUNT_PERCENT = "discount_percent"
    XP = "xp"


class Promocode(db.Model):
    """A code members redeem once each, for balance, plan days, a discount or XP."""

    __tablename__ = "promocodes"
    __table_args__ = (
        one_of("kind", [k.value for k in PromocodeKind], "kind"),
        sa.CheckConstraint("value > 0", name="value_positive"),
        sa.CheckConstraint("uses_count >= 0", name="uses_nonneg"),
        sa.CheckConstraint("max_uses IS NULL OR uses_count <= max_uses", name="uses_within_max"),
        sa.UniqueConstraint("tenant_id", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    #: Stored upper-case; matched case-insensitively.
    code: Mapped[str] = mapped_column(sa.String(32))
    kind: Mapped[str] = mapped_column(sa.String(20))
    #: Toman, days, percent or XP, by kind.
    value: Mapped[int] = mapped_column(sa.BigInteger)
    #: For plan_days: the plan granted or extended.
    plan_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("plans.id", ondelete="SET NULL"))
    max_uses: Mapped[Optional[int]] = mapped_column()
    uses_count: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    plan = relationship("Plan")


class PromocodeRedemption(db.Model):
    """A member's one use of a promo code."""

    __tablename__ = "promocode_redemptions"
    __table_args__ = (sa.UniqueConstraint("promocode_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    promocode_id: Mapped[int] = mapped_column(sa.ForeignKey("promocodes.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    bot_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("bots.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: For discount codes: when the discount was spent on a purchase.
    consumed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    promocode: Mapped[Promocode] = relationship()


class BadgeDefinition(db.Model):
    """A badge an owner defines and awards by hand (built-in badges live in code)."""

    __tablename__ = "badge_definitions"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(80))
    description: Mapped[Optional[str]] = mapped_column(sa.String(300))
    icon: Mapped[Optional[str]] = mapped_column(sa.String(16))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MemberBadge(db.Model):
    """A badge awarded to a member, once."""

    __tablename__ = "member_badges"
    __table_args__ = (sa.UniqueConstraint("member_id", "badge_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"))
    #: A built-in code (first_purchase, ...) or a BadgeDefinition code of the tenant.
    badge_code: Mapped[str] = mapped_column(sa.String(40))
    earned_in_bot_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("bots.id", ondelete="SET NULL"))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", sa.JSON, default=dict)
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
