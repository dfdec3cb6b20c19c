"""Plans a tenant sells, and buying one from the member's balance."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import LedgerAccount, Member, Plan, Subscription, SubscriptionSource, Tenant
from app.services import ledger, promocodes, rewards, wallet
from app.services.amounts import check_amount
from app.services.errors import IdempotencyConflict, InsufficientFunds, NotAllowed, NotFound, ValidationFailed
from app.services.locking import lock_row
from app.services.lookup import get_owned
from app.services.parsing import clean_text, has_visible
from app.services.stars import check_stars_price
from app.services.subscriptions import MAX_GRANT_DAYS, grant_or_extend

EDITABLE_FIELDS = ("name", "description", "period_days", "price", "traffic_gb", "daily_request_quota",
                   "stars_price", "is_active")
MAX_TRAFFIC_GB = 1_000_000
MAX_DAILY_QUOTA = 1_000_000


def create_plan(tenant: Tenant, *, name, period_days, price, description=None, traffic_gb=None,
                daily_request_quota=None, stars_price=None) -> Plan:
    """A new plan on sale, listed after the tenant's other plans."""
    fields = _checked(dict(name=name, period_days=period_days, price=price, description=description,
                           traffic_gb=traffic_gb, daily_request_quota=daily_request_quota, stars_price=stars_price))
    last = db.session.scalar(sa.select(sa.func.max(Plan.sort_order)).where(Plan.tenant_id == tenant.id))
    plan = Plan(tenant_id=tenant.id, sort_order=(last or 0) + 1, **fields)
    db.session.add(plan)
    db.session.flush()
    return plan


def update_plan(plan: Plan, **fields) -> Plan:
    """Change some of a plan's fields (see EDITABLE_FIELDS); subscriptions already sold keep their terms."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(f"A plan has no editable field {sorted(unknown)[0]!r}.")
    for name, value in _checked(fields).items():
        setattr(plan, name, value)
    db.session.flush()
    return plan


def archive_plan(plan: Plan) -> Plan:
    """Take a plan off sale for good; the subscriptions that use it keep it."""
    plan.is_archived, plan.is_active = True, False
    db.session.flush()
    return plan


def reorder_plans(tenant: Tenant, plan_ids: list[int]) -> list[Plan]:
    """List the given plans first, in this order; the others keep their order after them."""
    plans = {p.id: p for p in db.session.scalars(sa.select(Plan).where(Plan.tenant_id == tenant.id))}
    if any(pid not in plans for pid in plan_ids) or len(set(plan_ids)) != len(plan_ids):
        raise NotFound("No such plan.")
    rest = sorted((p for pid, p in plans.items() if pid not in plan_ids), key=lambda p: (p.sort_order, p.id))
    ordered = [plans[pid] for pid in plan_ids] + rest
    for position, plan in enumerate(ordered, start=1):
        plan.sort_order = position
    db.session.flush()
    return ordered


def active_plans(tenant: Tenant) -> list[Plan]:
    """The plans on sale, in the owner's order."""
    return list(db.session.scalars(
        sa.select(Plan).where(Plan.tenant_id == tenant.id, Plan.is_active.is_(True), Plan.is_archived.is_(False))
        .order_by(Plan.sort_order, Plan.id)))


def get_plan(tenant: Tenant, plan_id: int) -> Plan:
    """The tenant's plan, or NotFound (also for another tenant's plan)."""
    return get_owned(Plan, tenant, plan_id, "No such plan.")


def check_on_sale(member: Member, plan: Plan) -> Plan:
    """Refuse a plan of another tenant (NotFound) or one taken off sale."""
    if plan is None or plan.tenant_id != member.tenant_id:
        raise NotFound("No such plan.")
    if plan.is_archived or not plan.is_active:
        raise ValidationFailed("This plan is no longer on sale.")
    return plan


def purchase_from_balance(member: Member, plan: Plan, *, key: str, actor: str, bot=None) -> Subscription:
    """Buy `plan` with the member's balance, in one transaction: wholesale charge, subscription, debit.

    `key` names the purchase (e.g. the bot update); a repeat returns the first purchase's subscription.
    A pending discount code lowers the price; `subscription.rewards` holds the XP, level up and badges.
    """
    check_on_sale(member, plan)
    lock_row(Tenant, member.tenant_id)  # the sale charges the wallet: tenant before member, as everywhere
    locked = lock_row(Member, member.id, tenant_id=member.tenant_id)
    if locked.is_banned:
        raise NotAllowed("This account is blocked.")
    previous = ledger.find_entry(member.tenant_id, key)
    if previous is not None:
        return _subscription_of(previous, locked, plan)
    price = promocodes.price_for(locked, plan)
    if locked.balance < price:
        raise InsufficientFunds(f"Your balance is {locked.balance:,} Toman; this plan costs {price:,} Toman. "
                                "Top up first.", balance=locked.balance, needed=price)
    subscription = sell_plan(locked, plan, key=key, source=SubscriptionSource.BALANCE.value, actor=actor)
    subscription.rewards = rewards.after_balance_purchase(locked, price, key=key, bot=bot)  # growth
    return subscription


def sell_plan(member: Member, plan: Plan, *, key: str, source: str, actor: str) -> Subscription:
    """Charge the wallet, grant or extend the subscription, and debit the price under `key`.

    The caller holds the member lock and has checked the balance against `promocodes.price_for`;
    a pending discount is spent here. WalletInsufficient may be raised.
    """
    tenant = db.session.get(Tenant, member.tenant_id)
    wallet.charge_sale(tenant, plan, key=f"{key}:wholesale", actor=actor)
    subscription = grant_or_extend(member, plan, source=source)
    price = promocodes.consume_discount(member, plan)  # growth: a one-time discount code
    ledger.debit_member(member, price, key=key, kind="purchase", ref_type="subscription",
                        ref_id=subscription.id, actor=actor, note=plan.name[:500])
    member.is_newcomer = False
    db.session.flush()
    return subscription


def _subscription_of(entry, member: Member, plan: Plan) -> Subscription:
    same = (entry.account == LedgerAccount.MEMBER_BALANCE.value and entry.member_id == member.id
            and -plan.price <= entry.amount < 0 and entry.ref_type == "subscription")
    if not same:
        raise IdempotencyConflict("This purchase key was already used for something else.")
    return db.session.get(Subscription, entry.ref_id)


def _checked(fields: dict) -> dict:
    out = dict(fields)
    if "name" in out:
        out["name"] = clean_text(out["name"])
        if not has_visible(out["name"]) or len(out["name"]) > 100:
            raise ValidationFailed("The plan name must have 1 to 100 characters.")
    if "description" in out:
        out["description"] = clean_text(out["description"], multiline=True) or None
    if "period_days" in out:
        _whole(out["period_days"], 1, MAX_GRANT_DAYS, "The period is a whole number of days")
    if "price" in out:
        out["price"] = check_amount(out["price"])
    if out.get("traffic_gb") is not None:
        _whole(out["traffic_gb"], 1, MAX_TRAFFIC_GB, "The traffic is a whole number of GB (empty: unmetered)")
    if out.get("daily_request_quota") is not None:
        _whole(out["daily_request_quota"], 0, MAX_DAILY_QUOTA, "The daily quota is a whole number")
    if "stars_price" in out:
        out["stars_price"] = check_stars_price(out["stars_price"])
    if "is_active" in out:
        out["is_active"] = bool(out["is_active"])
    return out


def _whole(value, low: int, high: int, label: str) -> None:
    if type(value) is not int or not low <= value <= high:
        raise ValidationFailed(f"{label}, from {low:,} to {high:,}.")


def grant_paid_elsewhere(member: Member, plan: Plan, *, key: str, actor: str, days: int | None = None) -> Subscription:
    """A plan a sibling service sold: the tenant wallet pays the wholesale price and the traffic counts as
    sold, exactly as in a sale, but the member's balance is not touched (the member paid elsewhere)."""
    if plan.tenant_id != member.tenant_id or plan.is_archived:
        raise NotFound("No such plan.")
    tenant = lock_row(Tenant, member.tenant_id)  # tenant before member, as everywhere
    wallet.charge_sale(tenant, plan, key=f"{key}:wholesale", actor=actor)
    subscription = grant_or_extend(member, plan, source=SubscriptionSource.GRANT.value, days=days)
    member.is_newcomer = False
    db.session.flush()
    return subscription
