"""Subscriptions: granting, extending and expiring a member's right to a plan."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import Member, Plan, PlanPanel, Subscription, SubscriptionSource, SubscriptionStatus
from app.services import chat_access, clock, events
from app.services.errors import NotFound, ValidationFailed
from app.services.locking import lock_row
from app.services.panels import provisioning

GB = 1024 ** 3
LIVE_STATUSES = (SubscriptionStatus.ACTIVE.value, SubscriptionStatus.LIMITED.value)
MAX_GRANT_DAYS = 3650


def plan_traffic_bytes(plan: Plan) -> int | None:
    return plan.traffic_gb * GB if plan.traffic_gb else None


def grant_or_extend(member: Member, plan: Plan, *, source: str, days: int | None = None,
                    now: datetime | None = None) -> Subscription:
    """Give `member` the plan for `days` (default its period); the same plan held already is extended."""
    if plan.tenant_id != member.tenant_id:
        raise NotFound("No such plan.")
    if source not in {s.value for s in SubscriptionSource}:
        raise ValidationFailed(f"Unknown subscription source {source!r}.")
    days = plan.period_days if days is None else days
    if type(days) is not int or not 1 <= days <= MAX_GRANT_DAYS:
        raise ValidationFailed(f"A subscription lasts 1 to {MAX_GRANT_DAYS} days.")
    now = now or clock.now()
    lock_row(Member, member.id, tenant_id=member.tenant_id)  # one grant per member at a time
    held = _live_of_plan(member, plan, now)
    if held is None:
        subscription = _new(member, plan, source, days, now)
        provisioning.subscription_changed(subscription)  # a VPN plan: create the panel user
        chat_access.subscription_changed(subscription)  # a plan with chats: invite links
        return subscription
    held.ends_at += timedelta(days=days)
    extra = plan_traffic_bytes(plan)
    held.traffic_limit_bytes = None if extra is None or held.traffic_limit_bytes is None \
        else held.traffic_limit_bytes + extra
    if held.status == SubscriptionStatus.LIMITED.value and not is_over_limit(held):
        held.status = SubscriptionStatus.ACTIVE.value
    db.session.flush()
    events.subscription_changed("subscription.extended", held)
    provisioning.subscription_changed(held)  # new expiry and limit, re-enabled if it was limited
    chat_access.subscription_changed(held)
    return held


def cancel(subscription: Subscription, *, actor: str = "system") -> Subscription:
    """End a subscription now (cancelled or refunded); its panel user is deleted or disabled per the panel."""
    locked = lock_row(Subscription, subscription.id, tenant_id=subscription.tenant_id)
    if locked.status == SubscriptionStatus.CANCELLED.value:
        return locked
    locked.status = SubscriptionStatus.CANCELLED.value
    db.session.flush()
    events.subscription_changed("subscription.cancelled", locked)
    provisioning.subscription_changed(locked)
    chat_access.subscription_changed(locked)  # removed from its chats
    return locked


def change_plan(subscription: Subscription, plan: Plan) -> Subscription:
    """Move a live subscription to another plan: same end, the new plan's traffic cap, the panel user updated.

    A plan that sells through another panel (or none, or from none) cannot take over a panel user;
    cancel and grant instead.
    """
    if plan.tenant_id != subscription.tenant_id:
        raise NotFound("No such plan.")
    lock_row(Member, subscription.member_id, tenant_id=subscription.tenant_id)  # the global order: member first
    locked = lock_row(Subscription, subscription.id, tenant_id=subscription.tenant_id)
    if locked.status not in LIVE_STATUSES or locked.ends_at <= clock.now():
        raise ValidationFailed("Only a running subscription can change its plan.")
    if locked.plan_id == plan.id:
        raise ValidationFailed("The subscription is already on this plan.")
    if _panel_of(locked.plan_id) != _panel_of(plan.id):
        raise ValidationFailed("That plan is served by another VPN panel: cancel this subscription and grant "
                               "the new plan instead.")
    previous_plan_id, locked.plan_id = locked.plan_id, plan.id
    locked.traffic_limit_bytes = plan_traffic_bytes(plan)
    locked.status = SubscriptionStatus.LIMITED.value if is_over_limit(locked) else SubscriptionStatus.ACTIVE.value
    db.session.flush()
    db.session.expire(locked, ["plan"])
    events.subscription_changed("subscription.changed", locked)
    provisioning.subscription_changed(locked)
    chat_access.subscription_changed(locked, previous_plan_id=previous_plan_id)  # the old plan's chats too
    return locked


def _panel_of(plan_id: int) -> int | None:
    mapping = db.session.get(PlanPanel, plan_id)
    return mapping.panel_id if mapping else None


def active_subscription(member: Member, now: datetime | None = None) -> Subscription | None:
    """The member's active subscription that ends last, if any."""
    return db.session.scalar(_ACTIVE_SUBSCRIPTION, {"tenant_id": member.tenant_id, "member_id": member.id,
                                                    "now": now or clock.now()})


#: Built once: every profile view asks (building the SELECT would cost more than running it).
_ACTIVE_SUBSCRIPTION = sa.select(Subscription).where(
    Subscription.tenant_id == sa.bindparam("tenant_id"), Subscription.member_id == sa.bindparam("member_id"),
    Subscription.status == SubscriptionStatus.ACTIVE.value, Subscription.ends_at > sa.bindparam("now")
).order_by(Subscription.ends_at.desc(), Subscription.id.desc()).limit(1)


def subscriptions_of(member: Member) -> list[Subscription]:
    return list(db.session.scalars(
        sa.select(Subscription).where(Subscription.tenant_id == member.tenant_id,
                                      Subscription.member_id == member.id)
        .order_by(Subscription.ends_at.desc(), Subscription.id.desc())))


def expire_due(tenant, now: datetime | None = None) -> list[Subscription]:
    """Mark the tenant's active or limited subscriptions whose end has passed as expired."""
    now = now or clock.now()
    due = list(db.session.scalars(
        sa.select(Subscription).where(Subscription.tenant_id == tenant.id,
                                      Subscription.status.in_(LIVE_STATUSES), Subscription.ends_at <= now)
        .order_by(Subscription.id).with_for_update(skip_locked=True, key_share=True)))
    for subscription in due:
        subscription.status = SubscriptionStatus.EXPIRED.value
    db.session.flush()
    for subscription in due:
        events.subscription_changed("subscription.expired", subscription)
        provisioning.subscription_changed(subscription)  # disable the panel user
        chat_access.subscription_changed(subscription)  # removed from its chats (unless another plan covers them)
    return due


def is_over_limit(subscription: Subscription) -> bool:
    limit = subscription.traffic_limit_bytes
    return limit is not None and subscription.traffic_used_bytes >= limit


def _live_of_plan(member: Member, plan: Plan, now: datetime) -> Subscription | None:
    return db.session.scalar(
        sa.select(Subscription).where(
            Subscription.tenant_id == member.tenant_id, Subscription.member_id == member.id,
            Subscription.plan_id == plan.id, Subscription.status.in_(LIVE_STATUSES), Subscription.ends_at > now)
        .order_by(Subscription.ends_at.desc()).limit(1).with_for_update(key_share=True))


def _new(member: Member, plan: Plan, source: str, days: int, now: datetime) -> Subscription:
    subscription = Subscription(
        tenant_id=member.tenant_id, member_id=member.id, plan_id=plan.id, status=SubscriptionStatus.ACTIVE.value,
        starts_at=now, ends_at=now + timedelta(days=days), traffic_limit_bytes=plan_traffic_bytes(plan),
        traffic_used_bytes=0, source=source)
    db.session.add(subscription)
    db.session.flush()
    events.subscription_changed("subscription.activated", subscription)
    return subscription
