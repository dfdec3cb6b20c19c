"""Plans a tenant sells and the subscriptions members hold."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import DeltaCountRow, Money, UTCDateTime, delta_count_indexes, one_of, utcnow


class SubscriptionStatus(str, enum.Enum):
    ACTIVE = "active"
    #: Used all its traffic before its end date.
    LIMITED = "limited"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class SubscriptionSource(str, enum.Enum):
    BALANCE = "balance"
    RECEIPT = "receipt"
    PROMOCODE = "promocode"
    GRANT = "grant"
    #: Paid in Telegram Stars (a purchase or a Stars-subscription renewal).
    STARS = "stars"


class Plan(db.Model):
    """Something a member can buy: days of service, optional traffic and daily quota."""

    __tablename__ = "plans"
    __table_args__ = (
        sa.CheckConstraint("price > 0", name="price_positive"),
        sa.CheckConstraint("period_days > 0", name="period_positive"),
        sa.CheckConstraint("stars_price IS NULL OR stars_price > 0", name="stars_price_positive"),
        sa.Index("ix_plans_tenant_sort", "tenant_id", "sort_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[Optional[str]] = mapped_column(sa.Text)
    period_days: Mapped[int] = mapped_column()
    #: Toman.
    price: Mapped[int] = mapped_column(Money)
    #: The price in Telegram Stars; None: not sold for Stars.
    stars_price: Mapped[Optional[int]] = mapped_column()
    #: Traffic included, in GB; None means unmetered.
    traffic_gb: Mapped[Optional[int]] = mapped_column()
    #: Metered requests per day while subscribed; None uses the tenant's premium default.
    daily_request_quota: Mapped[Optional[int]] = mapped_column()
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Hidden from sale; kept on the subscriptions that use it.
    is_archived: Mapped[bool] = mapped_column(default=False)
    sort_order: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Plan {self.id} {self.name!r} tenant={self.tenant_id}>"


class Subscription(db.Model):
    """A member's right to a plan's service between two instants."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        one_of("status", [s.value for s in SubscriptionStatus], "status"),
        one_of("source", [s.value for s in SubscriptionSource], "source"),
        sa.Index("ix_subscriptions_tenant_member", "tenant_id", "member_id"),
        sa.Index("ix_subscriptions_tenant_status_ends_at", "tenant_id", "status", "ends_at"),
        sa.Index("ix_subscriptions_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"))
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(sa.String(10), default=SubscriptionStatus.ACTIVE.value)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: None means unmetered.
    traffic_limit_bytes: Mapped[Optional[int]] = mapped_column(sa.BigInteger)
    traffic_used_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    source: Mapped[str] = mapped_column(sa.String(10))
    reminded_3d_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    reminded_1d_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    expiry_notified_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: A Stars subscription: Telegram renews it by itself until the member cancels it.
    stars_recurring: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member = relationship("Member")
    plan: Mapped[Plan] = relationship()


#: A plan_sale_counts slot: 15 minutes of UTC, so any tenant's local midnight (every IANA zone's is on a
#: quarter hour) starts a slot and a window of whole local days is a range of whole slots.
SLOT_SECONDS = 15 * 60


class PlanSaleCount(DeltaCountRow, db.Model):
    """Subscriptions created per (plan, source, 15-minute slot of created_at): the top-plans chart sums these
    instead of counting every subscription of its window.

    Written only by database triggers on `subscriptions` (migration 0043), in the transaction of the change, so
    every writer (purchases, grants, imports, cascaded deletes, plan changes) keeps it exact. Triggers only
    append delta rows (+n / -n, `fresh`), so concurrent purchases never wait on each other here;
    app.services.subscription_counts.compact_tenant folds them into one row per key.
    """

    __tablename__ = "plan_sale_counts"
    __table_args__ = delta_count_indexes("plan_sale_counts", "slot", "plan_id", "source", counted="sold")

    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(sa.String(10))
    #: created_at's seconds since the Unix epoch // SLOT_SECONDS.
    slot: Mapped[int] = mapped_column()
    sold: Mapped[int] = mapped_column(sa.BigInteger)


class SubscriptionStatusCount(DeltaCountRow, db.Model):
    """Subscriptions per (tenant, status): the overview's live count is the active total minus the few past their
    end that the expiry job has not marked yet, not a count of every live subscription.

    Written only by database triggers on `subscriptions` (migration 0045) as delta rows, like PlanSaleCount;
    app.services.subscription_counts.compact_tenant folds them.
    """

    __tablename__ = "subscription_status_counts"
    __table_args__ = delta_count_indexes("subscription_status_counts", "status", counted="subscriptions")

    status: Mapped[str] = mapped_column(sa.String(10))
    subscriptions: Mapped[int] = mapped_column(sa.BigInteger)
