"""The tenant wallet: the tenant's prepaid account with the platform, charged wholesale per plan sold.

Lock order everywhere in money: receipt → tenant → member → subscription → card(s) → daily stat
(the daily reset job takes tenant → members → cards too).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import (
    DailyStat,
    LedgerAccount,
    LedgerEntry,
    Member,
    Plan,
    Subscription,
    SubscriptionStatus,
    Tenant,
    TenantNotice,
)
from app.services import audit, clock, events, ledger, notify, settings
from app.services.errors import DomainError, InsufficientFunds, NotFound, ValidationFailed
from app.services.locking import lock_row
from app.services.panels import provisioning
from app.services.subscriptions import GB, is_over_limit


class WalletInsufficient(DomainError):
    code = "wallet_insufficient"


def wholesale_prices() -> dict:
    """{"per_gb": Toman per GB of plan traffic, "percent": share of the plan price} (platform settings)."""
    return {"per_gb": settings.get(None, "wholesale_per_gb"), "percent": settings.get(None, "wholesale_percent")}


def set_wholesale_prices(per_gb, percent, *, actor: str = "system") -> dict:
    """Set the platform's wholesale price for every tenant (platform admins only; the caller checks)."""
    settings.update(None, {"wholesale_per_gb": per_gb, "wholesale_percent": percent}, by=actor)
    return wholesale_prices()


def wholesale_cost(plan: Plan, prices: dict | None = None) -> int:
    """What the platform charges the tenant for selling one `plan`."""
    prices = prices or wholesale_prices()
    return prices["per_gb"] * (plan.traffic_gb or 0) + plan.price * prices["percent"] // 100


def topup_wallet(tenant: Tenant, amount: int, *, key: str, actor: str) -> LedgerEntry:
    """The platform admin adds Toman to a tenant's wallet."""
    entry = ledger.credit_wallet(tenant, amount, key=key, kind="wallet_topup", actor=actor)
    audit.record(tenant.id, actor, "wallet.topup", f"ledger:{entry.id}", amount=amount)
    return entry


def can_cover(tenant: Tenant, plan: Plan) -> bool:
    """Lock the tenant and tell whether its wallet (with credit) covers one sale of `plan`."""
    locked = lock_row(Tenant, tenant.id)
    if locked is None:
        raise NotFound("This tenant no longer exists.")
    return locked.wallet_balance - wholesale_cost(plan) >= -locked.wallet_credit_limit


def charge_sale(tenant: Tenant, plan: Plan, *, key: str, actor: str = "system") -> LedgerEntry | None:
    """Charge the wholesale price of one sale and count its traffic as sold.

    Refused with WalletInsufficient when the wallet would pass its credit limit; the owner's alert
    (AuditLog + TenantNotice) is flushed first, so a boundary that commits after telling the member keeps it.
    A repeated key charges nothing again.
    """
    if plan.tenant_id != tenant.id:
        raise NotFound("No such plan.")
    previous = ledger.find_entry(tenant.id, key)
    if previous:
        return previous
    cost = wholesale_cost(plan)
    entry = None
    if cost:
        try:
            entry = ledger.debit_wallet(tenant, cost, key=key, kind="wholesale", ref_type="plan", ref_id=plan.id,
                                        actor=actor)
        except InsufficientFunds:
            alert_refused_sale(tenant, plan, actor=actor)
            raise WalletInsufficient("This plan cannot be sold right now. Please try again later or contact "
                                     "support.", plan_id=plan.id) from None
    sold = (plan.traffic_gb or 0) * GB
    if sold:
        _add_tenant_traffic(tenant, sold_bytes=sold)
    return entry


def alert_refused_sale(tenant: Tenant, plan: Plan, *, actor: str = "system") -> None:
    """Tell the owner a sale was refused: an AuditLog row, and a dashboard notice unless one is unread."""
    audit.record(tenant.id, actor, "wallet.sale_refused", f"plan:{plan.id}",
                 cost=wholesale_cost(plan), wallet_balance=tenant.wallet_balance)
    unread = db.session.scalar(sa.select(TenantNotice.id).where(
        TenantNotice.tenant_id == tenant.id, TenantNotice.kind == "wallet_insufficient",
        TenantNotice.read_at.is_(None)).limit(1))
    if unread is None:
        db.session.add(TenantNotice(
            tenant_id=tenant.id, kind="wallet_insufficient",
            message="Your wallet cannot cover the wholesale price of a sale, so members cannot buy plans. "
                    "Top up your wallet."))
        db.session.flush()


def record_traffic_consumption(subscription: Subscription, nbytes: int) -> Subscription:
    """Count traffic a member used; a subscription at or over its limit becomes limited."""
    if type(nbytes) is not int or nbytes < 0:
        raise ValidationFailed("Traffic is a whole number of bytes, 0 or more.")
    if nbytes == 0:
        return subscription
    tenant = db.session.get(Tenant, subscription.tenant_id)
    _add_tenant_traffic(tenant, consumed_bytes=nbytes)
    locked = lock_row(Subscription, subscription.id, tenant_id=subscription.tenant_id)
    locked.traffic_used_bytes += nbytes
    if locked.status == SubscriptionStatus.ACTIVE.value and is_over_limit(locked):
        locked.status = SubscriptionStatus.LIMITED.value
        db.session.flush()
        events.subscription_changed("subscription.limited", locked)
        notify.notify_member(db.session.get(Member, locked.member_id), "subscription_limited",
                             once_key=f"limited:{locked.id}:{locked.traffic_limit_bytes}", plan_name=locked.plan.name)
        provisioning.subscription_changed(locked)  # disable the panel user at its cap
    db.session.flush()
    return locked


def record_panel_usage(tenant: Tenant, deltas: dict[int, int]) -> list[Subscription]:
    """Count new traffic read from a panel ({subscription id: bytes}) in bulk; the subscriptions it limited.

    One tenant counter update and one DailyStat upsert for the whole batch; each subscription's used
    bytes grow by an atomic increment, then those active ones at or over their cap become limited.
    """
    total = sum(deltas.values())
    if total <= 0:
        return []
    _add_tenant_traffic(tenant, consumed_bytes=total)
    limited = []
    ids = sorted(deltas)
    for start in range(0, len(ids), 1000):
        chunk = {sid: deltas[sid] for sid in ids[start:start + 1000]}
        db.session.execute(  # one statement per 1,000 subscriptions, in id order (the lock order)
            sa.update(Subscription).where(Subscription.tenant_id == tenant.id, Subscription.id.in_(chunk))
            .values(traffic_used_bytes=Subscription.traffic_used_bytes + sa.case(chunk, value=Subscription.id)),
            execution_options={"synchronize_session": False})
        limited += _limit_over_cap(tenant, list(chunk))
    return limited


def _limit_over_cap(tenant: Tenant, ids: list[int]) -> list[Subscription]:
    over = list(db.session.scalars(
        sa.select(Subscription).where(
            Subscription.tenant_id == tenant.id, Subscription.id.in_(ids),
            Subscription.status == SubscriptionStatus.ACTIVE.value, Subscription.traffic_limit_bytes.is_not(None),
            Subscription.traffic_used_bytes >= Subscription.traffic_limit_bytes)
        .order_by(Subscription.id).with_for_update(key_share=True).execution_options(populate_existing=True)))
    for subscription in over:
        subscription.status = SubscriptionStatus.LIMITED.value
    db.session.flush()
    return over


def wallet_stats(tenant: Tenant, days: int = 30) -> dict:
    """Balance, totals, and per tenant-local day: traffic sold and consumed, Toman charged and topped up."""
    today = clock.tenant_today(tenant)
    first = today - timedelta(days=days - 1)
    series = {first + timedelta(days=i): {"day": first + timedelta(days=i), "sold_bytes": 0,
                                          "consumed_bytes": 0, "charged": 0, "topped_up": 0}
              for i in range(days)}
    for stat in db.session.scalars(sa.select(DailyStat).where(DailyStat.tenant_id == tenant.id,
                                                              DailyStat.day >= first)):
        if stat.day in series:
            series[stat.day].update(sold_bytes=stat.traffic_sold_bytes, consumed_bytes=stat.traffic_consumed_bytes)
    for day, (charged, topped_up) in _wallet_moves_by_day(tenant, first).items():
        if day in series:
            series[day].update(charged=charged, topped_up=topped_up)
    return {"balance": tenant.wallet_balance, "credit_limit": tenant.wallet_credit_limit,
            "traffic_sold_bytes": tenant.traffic_sold_bytes, "traffic_consumed_bytes": tenant.traffic_consumed_bytes,
            "wholesale": wholesale_prices(), "days": list(series.values())}


def _wallet_moves_by_day(tenant: Tenant, first) -> dict:
    since = clock.now() - timedelta(days=(clock.tenant_today(tenant) - first).days + 2)
    totals: dict = defaultdict(lambda: [0, 0])
    rows = db.session.execute(sa.select(LedgerEntry.created_at, LedgerEntry.amount).where(
        LedgerEntry.tenant_id == tenant.id, LedgerEntry.account == LedgerAccount.TENANT_WALLET.value,
        LedgerEntry.created_at >= since))
    for created_at, amount in rows:
        totals[clock.tenant_today(tenant, created_at)][0 if amount < 0 else 1] += abs(amount)
    return {day: tuple(v) for day, v in totals.items()}


def _add_tenant_traffic(tenant: Tenant, *, sold_bytes: int = 0, consumed_bytes: int = 0) -> None:
    """Atomic increments of the tenant's traffic counters and of today's DailyStat row."""
    db.session.execute(
        sa.update(Tenant).where(Tenant.id == tenant.id)
        .values(traffic_sold_bytes=Tenant.traffic_sold_bytes + sold_bytes,
                traffic_consumed_bytes=Tenant.traffic_consumed_bytes + consumed_bytes),
        execution_options={"synchronize_session": False})
    db.session.expire(tenant, ["traffic_sold_bytes", "traffic_consumed_bytes"])
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(DailyStat).values(tenant_id=tenant.id, day=clock.tenant_today(tenant), created_at=clock.now(),
                                    traffic_sold_bytes=sold_bytes, traffic_consumed_bytes=consumed_bytes)
    stmt = stmt.on_conflict_do_update(index_elements=["tenant_id", "day"], set_={
        "traffic_sold_bytes": DailyStat.traffic_sold_bytes + stmt.excluded.traffic_sold_bytes,
        "traffic_consumed_bytes": DailyStat.traffic_consumed_bytes + stmt.excluded.traffic_consumed_bytes})
    db.session.execute(stmt)

