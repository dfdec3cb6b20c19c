"""Telegram Stars: plans priced in Stars, invoices, the pre-checkout check, the sale, renewals and refunds.

A Stars payment is a sale like any other (`sell_for_stars`): under the tenant lock the tenant wallet pays
the wholesale price (one ledger entry, as in every sale) and the subscription is granted or extended; the
member's Toman balance is not touched. The Stars themselves are recorded as a StarPayment, one per
telegram_payment_charge_id (unique), so the same update delivered twice (or concurrently) sells once.
A 30-day plan is sold as a Stars subscription (subscription_period): each renewal Telegram charges arrives
as a new successful_payment (is_recurring) and extends the subscription; once the member cancels, no
renewal comes and the subscription ends at its period end, as any other.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Bot,
    LedgerEntry,
    Member,
    Plan,
    StarPayment,
    StarPaymentStatus,
    Subscription,
    SubscriptionSource,
    Tenant,
)
from app.services import audit, clock, ledger, outbox, wallet
from app.services.errors import NotAllowed, NotFound, ValidationFailed
from app.services.locking import lock_row
from app.services.lookup import get_owned
from app.services.subscriptions import cancel, grant_or_extend

INVOICE_KIND = "stars.invoice"
REFUND_KIND = "stars.refund"
CURRENCY = "XTR"
#: Telegram's only Stars subscription period (30 days), in seconds.
SUBSCRIPTION_PERIOD = 2_592_000
SUBSCRIPTION_DAYS = 30
MAX_STARS = 100_000


@dataclass(frozen=True)
class InvoicePayload:
    plan_id: int
    stars: int
    member_id: int

    def encode(self) -> str:
        return f"bfstars:{self.plan_id}:{self.stars}:{self.member_id}"

    @classmethod
    def decode(cls, text: str | None) -> InvoicePayload | None:
        parts = (text or "").split(":")
        if len(parts) != 4 or parts[0] != "bfstars" or not all(p.isdigit() for p in parts[1:]):
            return None
        return cls(int(parts[1]), int(parts[2]), int(parts[3]))


def check_stars_price(value) -> int | None:
    """A plan's Stars price: None (not sold for Stars) or a whole number from 1 to MAX_STARS."""
    if value is None:
        return None
    if type(value) is not int or not 1 <= value <= MAX_STARS:
        raise ValidationFailed(f"The Stars price is a whole number from 1 to {MAX_STARS:,} (empty: not sold for Stars).")
    return value


def is_subscription_plan(plan: Plan) -> bool:
    """A 30-day plan is sold as a Stars subscription that renews by itself."""
    return plan.period_days == SUBSCRIPTION_DAYS


def offer_invoice(member: Member, plan: Plan, bot: Bot, *, key: str) -> None:
    """Queue the Stars invoice for `plan` to the member's chat with `bot` (sendInvoice, or a subscription link)."""
    if plan.tenant_id != member.tenant_id or bot.tenant_id != member.tenant_id:
        raise NotFound("No such plan.")
    if not plan.stars_price or plan.is_archived or not plan.is_active:
        raise ValidationFailed("This plan is not sold for Stars.")
    payload = InvoicePayload(plan.id, plan.stars_price, member.id).encode()
    outbox.enqueue(INVOICE_KIND, {"bot_id": bot.id, "chat_id": member.telegram_id, "plan_id": plan.id,
                                  "title": plan.name[:32], "description": (plan.description or plan.name)[:255],
                                  "payload": payload, "stars": plan.stars_price,
                                  "subscription": is_subscription_plan(plan)},
                   tenant_id=member.tenant_id, key=f"stars-invoice:{key}")


def pre_checkout_refusal(bot: Bot, telegram_id: int, payload: str, currency: str, total: int) -> str | None:
    """Why a pre-checkout query must be refused (a catalog key), or None to accept it."""
    parsed = InvoicePayload.decode(payload)
    plan = db.session.get(Plan, parsed.plan_id) if parsed else None
    member = db.session.get(Member, parsed.member_id) if parsed else None
    if plan is None or plan.tenant_id != bot.tenant_id or plan.is_archived or not plan.is_active:
        return "stars.plan_gone"
    if member is None or member.tenant_id != bot.tenant_id or member.telegram_id != telegram_id or member.is_banned:
        return "stars.plan_gone"
    if currency != CURRENCY or plan.stars_price != parsed.stars or total != parsed.stars:
        return "stars.price_changed"
    if not wallet.can_cover(db.session.get(Tenant, bot.tenant_id), plan):
        return "stars.unavailable"
    return None


def record_payment(bot: Bot, telegram_id: int, payment: dict) -> StarPayment:
    """A successful_payment: the sale (or the renewal), once per telegram_payment_charge_id."""
    parsed = InvoicePayload.decode(payment.get("invoice_payload"))
    charge_id = payment.get("telegram_payment_charge_id") or ""
    if parsed is None or not charge_id or payment.get("currency") != CURRENCY:
        raise ValidationFailed("Not a Botfleet Stars payment.")
    tenant = lock_row(Tenant, bot.tenant_id)  # the sale charges the wallet: tenant before member, as everywhere
    previous = payment_by_charge(charge_id)
    if previous is not None:
        return previous
    member = db.session.get(Member, parsed.member_id)
    plan = db.session.get(Plan, parsed.plan_id)
    if member is None or plan is None or member.tenant_id != tenant.id or plan.tenant_id != tenant.id \
            or member.telegram_id != telegram_id:
        raise NotFound("No such member or plan.")
    recurring = bool(payment.get("is_recurring"))
    renewal = recurring and not payment.get("is_first_recurring")
    return sell_for_stars(member, plan, bot, charge_id=charge_id, stars=int(payment.get("total_amount") or 0),
                          recurring=recurring, renewal=renewal)


def sell_for_stars(member: Member, plan: Plan, bot: Bot, *, charge_id: str, stars: int, recurring: bool,
                   renewal: bool) -> StarPayment:
    """The sale path for Stars (caller holds the tenant lock): wholesale charge, subscription, StarPayment."""
    locked = lock_row(Member, member.id, tenant_id=member.tenant_id)
    tenant = db.session.get(Tenant, member.tenant_id)
    key = f"stars:{charge_id}"[:100]
    try:
        wallet.charge_sale(tenant, plan, key=f"{key}:wholesale", actor=f"telegram:{locked.telegram_id}")
    except wallet.WalletInsufficient:  # paid, but the tenant cannot sell now: the Stars go back at once
        return _refund_unsold(locked, plan, bot, charge_id=charge_id, stars=stars, recurring=recurring)
    days = SUBSCRIPTION_DAYS if recurring else None
    subscription = grant_or_extend(locked, plan, source=SubscriptionSource.STARS.value, days=days)
    subscription.stars_recurring = recurring
    locked.is_newcomer = False
    star_payment = StarPayment(tenant_id=tenant.id, member_id=locked.id, bot_id=bot.id, plan_id=plan.id,
                               subscription_id=subscription.id, telegram_payment_charge_id=charge_id,
                               amount=stars, is_recurring=recurring, is_renewal=renewal)
    db.session.add(star_payment)
    db.session.flush()
    audit.record(tenant.id, f"telegram:{locked.telegram_id}", "stars.renewal" if renewal else "stars.sale",
                 f"star_payment:{star_payment.id}", stars=stars, plan_id=plan.id, subscription_id=subscription.id)
    return star_payment


def _refund_unsold(member: Member, plan: Plan, bot: Bot, *, charge_id: str, stars: int,
                   recurring: bool) -> StarPayment:
    """A payment that could not become a sale (the tenant wallet is empty): recorded and refunded."""
    star_payment = StarPayment(tenant_id=member.tenant_id, member_id=member.id, bot_id=bot.id, plan_id=plan.id,
                               telegram_payment_charge_id=charge_id, amount=stars, is_recurring=recurring,
                               status=StarPaymentStatus.REFUNDING.value, refunded_at=clock.now(), refunded_by="system")
    db.session.add(star_payment)
    db.session.flush()
    outbox.enqueue(REFUND_KIND, {"star_payment_id": star_payment.id, "user_id": member.telegram_id},
                   tenant_id=member.tenant_id, key=f"stars-refund:{star_payment.id}")
    audit.record(member.tenant_id, "system", "stars.refund", f"star_payment:{star_payment.id}", stars=stars)
    return star_payment


def refund(star_payment: StarPayment, *, by) -> StarPayment:
    """The owner refunds a Stars payment: the subscription ends (access removed), the wholesale charge comes
    back to the wallet, and refundStarPayment is queued."""
    tenant = lock_row(Tenant, star_payment.tenant_id)
    locked = db.session.scalar(sa.select(StarPayment).where(StarPayment.id == star_payment.id)
                               .with_for_update())
    if locked.status != StarPaymentStatus.PAID.value:
        raise NotAllowed("This payment was already refunded.")
    locked.status, locked.refunded_at, locked.refunded_by = StarPaymentStatus.REFUNDING.value, clock.now(), \
        audit.actor_of(by)[:100]
    if locked.subscription_id:
        cancel(db.session.get(Subscription, locked.subscription_id), actor=audit.actor_of(by))
    _return_wholesale(tenant, locked)
    member = db.session.get(Member, locked.member_id)
    outbox.enqueue(REFUND_KIND, {"star_payment_id": locked.id, "user_id": member.telegram_id},
                   tenant_id=tenant.id, key=f"stars-refund:{locked.id}")
    audit.record(tenant.id, audit.actor_of(by), "stars.refund", f"star_payment:{locked.id}", stars=locked.amount)
    db.session.flush()
    return locked


def _return_wholesale(tenant: Tenant, star_payment: StarPayment) -> LedgerEntry | None:
    charged = ledger.find_entry(tenant.id, f"stars:{star_payment.telegram_payment_charge_id}"[:100] + ":wholesale")
    if charged is None or charged.amount >= 0:
        return None
    return ledger.credit_wallet(tenant, -charged.amount, key=f"stars-refund:{star_payment.id}", kind="stars_refund",
                                ref_type="star_payment", ref_id=star_payment.id, actor="system")


def payment_by_charge(charge_id: str) -> StarPayment | None:
    return db.session.scalar(sa.select(StarPayment).where(StarPayment.telegram_payment_charge_id == charge_id))


def payments_of(member: Member) -> list[StarPayment]:
    return list(db.session.scalars(sa.select(StarPayment).where(StarPayment.tenant_id == member.tenant_id,
                                                                StarPayment.member_id == member.id)
                                   .order_by(StarPayment.id.desc())))


def get_payment(tenant: Tenant, star_payment_id: int) -> StarPayment:
    return get_owned(StarPayment, tenant, star_payment_id, "No such payment.")


def stars_earned(tenant: Tenant) -> dict:
    """Stars earned by the tenant: paid, refunded, and the net, with the number of payments."""
    rows = dict(db.session.execute(
        sa.select(StarPayment.status, sa.func.coalesce(sa.func.sum(StarPayment.amount), 0))
        .where(StarPayment.tenant_id == tenant.id).group_by(StarPayment.status)).all())
    refunded = rows.get(StarPaymentStatus.REFUNDED.value, 0) + rows.get(StarPaymentStatus.REFUNDING.value, 0)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(StarPayment)
                              .where(StarPayment.tenant_id == tenant.id)) or 0
    return {"net": rows.get(StarPaymentStatus.PAID.value, 0), "refunded": refunded, "payments": count}
