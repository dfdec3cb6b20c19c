"""The member's current subscription (until the money services provide active_subscription)."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Member, Subscription, SubscriptionStatus, utcnow


def current_subscription(member: Member) -> Subscription | None:
    """The active subscription that ends last, if any."""
    return db.session.scalar(
        sa.select(Subscription).where(
            Subscription.tenant_id == member.tenant_id, Subscription.member_id == member.id,
            Subscription.status == SubscriptionStatus.ACTIVE.value, Subscription.ends_at > utcnow())
        .order_by(Subscription.ends_at.desc()).limit(1)
    )
