"""What an owner does to one member from the dashboard: adjust the balance, ban, grant, cancel or change a plan.

All audited; the member is told through the outbox.
"""
from __future__ import annotations

from app.models import Account, LedgerEntry, Member, Plan, Subscription, SubscriptionSource, SubscriptionStatus
from app.services import audit, ledger, notify, subscriptions
from app.services.amounts import check_amount
from app.services.errors import NotFound, ValidationFailed
from app.services.locking import lock_row
from app.services.parsing import clean_text, has_visible

MAX_REASON = 300


def adjust_balance(member: Member, amount: int, reason: str, by: Account, *, request_id: str) -> LedgerEntry:
    """Credit (amount > 0) or debit (amount < 0) the member through the ledger.

    `request_id` comes from the form, so a double submit makes one adjustment.
    """
    reason = clean_text(reason)
    if not has_visible(reason) or len(reason) > MAX_REASON:
        raise ValidationFailed(f"Give a reason of 1 to {MAX_REASON} characters.")
    if type(amount) is not int or amount == 0:
        raise ValidationFailed("The amount is a whole number of Toman, not zero.")
    check_amount(abs(amount))
    move = ledger.credit_member if amount > 0 else ledger.debit_member
    actor = audit.actor_of(by)
    key = f"adjust:{request_id}"
    already = ledger.find_entry(member.tenant_id, key)
    entry = move(member, abs(amount), key=key, kind="adjustment", actor=actor, note=reason)
    if already is None:
        audit.record(member.tenant_id, actor, "member.adjust_balance", f"member:{member.id}",
                     amount=amount, reason=reason, ledger_entry=entry.id)
        notify.notify_member(member, "balance_credited" if amount > 0 else "balance_debited", once_key=key,
                             amount=abs(amount), reason=reason, balance=entry.balance_after)
    return entry


def set_banned(member: Member, banned: bool, by: Account) -> Member:
    member.is_banned = banned
    audit.record(member.tenant_id, audit.actor_of(by), "member.ban" if banned else "member.unban",
                 f"member:{member.id}")
    return member


def grant_plan(member: Member, plan: Plan, days: int | None, by: Account) -> Subscription:
    """Give the member a plan (or more days of it) without payment."""
    if plan.tenant_id != member.tenant_id:
        raise NotFound("No such plan.")
    subscription = subscriptions.grant_or_extend(member, plan, source=SubscriptionSource.GRANT.value, days=days)
    audit.record(member.tenant_id, audit.actor_of(by), "member.grant_subscription", f"member:{member.id}",
                 plan_id=plan.id, days=days or plan.period_days, subscription_id=subscription.id)
    notify.notify_member(member, "subscription_granted", plan_name=plan.name, days=days or plan.period_days,
                         ends_at=subscription.ends_at)
    return subscription


def cancel_subscription(member: Member, subscription: Subscription, by: Account, *, refund: int, reason: str,
                        request_id: str) -> Subscription:
    """End the member's subscription now; `refund` Toman (0 to the plan's price) go back to their balance.

    `request_id` comes from the form: a double submit cancels once and refunds once.
    """
    reason = clean_text(reason)
    if not has_visible(reason) or len(reason) > MAX_REASON:
        raise ValidationFailed(f"Give a reason of 1 to {MAX_REASON} characters.")
    if subscription.member_id != member.id or subscription.tenant_id != member.tenant_id:
        raise NotFound("No such subscription.")
    if type(refund) is not int or not 0 <= refund <= subscription.plan.price:
        raise ValidationFailed(f"A refund is 0 to {subscription.plan.price} Toman (the plan's price).")
    lock_row(Member, member.id, tenant_id=member.tenant_id)  # the global order: member, then subscription
    current = lock_row(Subscription, subscription.id, tenant_id=subscription.tenant_id)
    if current.status == SubscriptionStatus.CANCELLED.value:
        return current  # a repeated submit, or someone was faster: nothing more to do
    if current.status not in subscriptions.LIVE_STATUSES:
        raise ValidationFailed("Only a running subscription can be cancelled.")
    subscriptions.cancel(current)
    actor = audit.actor_of(by)
    entry = ledger.credit_member(member, refund, key=f"refund:{request_id}", kind="refund", actor=actor,
                                 note=reason, ref_type="subscription", ref_id=current.id) if refund else None
    audit.record(member.tenant_id, actor, "member.cancel_subscription", f"member:{member.id}",
                 subscription_id=current.id, plan_id=current.plan_id, refund=refund, reason=reason)
    notify.notify_member(member, "subscription_cancelled_refunded" if entry else "subscription_cancelled",
                         once_key=f"cancel:{current.id}", plan_name=current.plan.name, reason=reason,
                         amount=refund, balance=entry.balance_after if entry else member.balance)
    return current


def change_plan(member: Member, subscription: Subscription, plan: Plan, by: Account) -> Subscription:
    """Move the member's running subscription to another plan (same end date, the new plan's traffic cap)."""
    if subscription.member_id != member.id or subscription.tenant_id != member.tenant_id:
        raise NotFound("No such subscription.")
    old_plan_id = subscription.plan_id
    changed = subscriptions.change_plan(subscription, plan)
    audit.record(member.tenant_id, audit.actor_of(by), "member.change_plan", f"member:{member.id}",
                 subscription_id=changed.id, old_plan_id=old_plan_id, plan_id=plan.id)
    notify.notify_member(member, "subscription_plan_changed", plan_name=plan.name, ends_at=changed.ends_at)
    return changed
