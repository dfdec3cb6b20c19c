"""Consumption a sibling service reports: traffic on the member's live subscription."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.models import Member, Subscription
from app.services import clock, wallet
from app.services.errors import NotFound, ValidationFailed
from app.services.subscriptions import LIVE_STATUSES

#: One report may carry at most this much (1 PiB): a bigger number is a bug on the other side.
MAX_REPORT_BYTES = 1024 ** 5


@dataclass(frozen=True)
class UsageRecorded:
    subscription: Subscription
    #: True when this report took the subscription to its cap (active → limited).
    became_limited: bool


def live_subscription(member: Member) -> Subscription | None:
    """The member's active or limited subscription that ends last."""
    return db.session.scalar(
        sa.select(Subscription).where(
            Subscription.tenant_id == member.tenant_id, Subscription.member_id == member.id,
            Subscription.status.in_(LIVE_STATUSES), Subscription.ends_at > clock.now())
        .order_by(Subscription.ends_at.desc(), Subscription.id.desc()).limit(1))


def record_traffic(member: Member, traffic_bytes: int) -> UsageRecorded:
    """Count traffic on the live subscription and the tenant's counters; at its cap it becomes limited."""
    if type(traffic_bytes) is not int or not 0 <= traffic_bytes <= MAX_REPORT_BYTES:
        raise ValidationFailed(f"traffic_bytes is a whole number from 0 to {MAX_REPORT_BYTES:,}.")
    subscription = live_subscription(member)
    if subscription is None:
        raise NotFound("This member has no active subscription to count traffic on.")
    before = subscription.status
    updated = wallet.record_traffic_consumption(subscription, traffic_bytes)
    return UsageRecorded(updated, before != updated.status)
