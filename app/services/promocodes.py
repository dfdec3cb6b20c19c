"""Promo codes: create, disable, list (the dashboard), redeem (atomically, once per member), one-time discounts."""
from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Account,
    Member,
    Plan,
    Promocode,
    PromocodeKind,
    PromocodeRedemption,
    SubscriptionSource,
    Tenant,
    utcnow,
)
from app.services import audit, ledger, subscriptions, xp
from app.services.errors import DomainError, NotFound, ValidationFailed
from app.services.locking import lock_row

CODE_RE = re.compile(r"^[A-Z0-9_-]{3,32}$")
KINDS = tuple(k.value for k in PromocodeKind)
#: A free plan is a plan_days code; a discount leaves something to pay.
MAX_DISCOUNT_PERCENT = 99
#: The largest value per kind: Toman, days, percent, XP.
MAX_VALUE = {PromocodeKind.BALANCE.value: 1_000_000_000, PromocodeKind.PLAN_DAYS.value: 3650,
             PromocodeKind.DISCOUNT_PERCENT.value: MAX_DISCOUNT_PERCENT, PromocodeKind.XP.value: 1_000_000}
#: The dashboard lists this many redemptions of a code, newest first.
REDEMPTIONS_SHOWN = 200


class PromocodeRefused(DomainError):
    """The code exists but cannot be redeemed now (used up, expired, disabled, already used)."""

    code = "promocode_refused"


def normalize(code: str) -> str:
    return (code or "").strip().upper()


def create_promocode(tenant: Tenant, *, code: str, kind: str, value: int, plan: Plan | None = None,
                     max_uses: int | None = None, expires_at: datetime | None = None,
                     by: Account | None = None) -> Promocode:
    """A new active code; stored upper-case, unique per tenant; audited as `by` (default: the system)."""
    code = normalize(code)
    _check_new(tenant, code, kind, value, plan, max_uses, expires_at)
    promocode = Promocode(tenant_id=tenant.id, code=code, kind=kind, value=value,
                          plan_id=plan.id if plan is not None else None, max_uses=max_uses,
                          expires_at=expires_at, uses_count=0, is_active=True)
    db.session.add(promocode)
    db.session.flush()
    audit.record(tenant.id, audit.actor_of(by), "promocode.create", f"promocode:{promocode.id}", code=code,
                 kind=kind)
    return promocode


def disable(promocode: Promocode, by: Account | None = None) -> Promocode:
    """Stop redemptions; what was redeemed stays."""
    promocode.is_active = False
    audit.record(promocode.tenant_id, audit.actor_of(by), "promocode.disable", f"promocode:{promocode.id}")
    db.session.flush()
    return promocode


def find(tenant: Tenant, code: str) -> Promocode | None:
    return db.session.scalar(
        sa.select(Promocode).where(Promocode.tenant_id == tenant.id, Promocode.code == normalize(code)))


def state(promocode: Promocode, now=None) -> str:
    """active, disabled, expired or used_up: what a member trying the code would meet."""
    if not promocode.is_active:
        return "disabled"
    if promocode.expires_at is not None and promocode.expires_at <= (now or utcnow()):
        return "expired"
    if promocode.max_uses is not None and promocode.uses_count >= promocode.max_uses:
        return "used_up"
    return "active"


def list_promocodes(tenant: Tenant) -> list[Promocode]:
    return list(db.session.scalars(
        sa.select(Promocode).where(Promocode.tenant_id == tenant.id).order_by(Promocode.id.desc())))


def redemptions_of(promocode: Promocode, limit: int = REDEMPTIONS_SHOWN) -> list[PromocodeRedemption]:
    """Who used the code and when: the newest `limit` redemptions first."""
    return list(db.session.scalars(
        sa.select(PromocodeRedemption).where(PromocodeRedemption.tenant_id == promocode.tenant_id,
                                             PromocodeRedemption.promocode_id == promocode.id)
        .order_by(PromocodeRedemption.id.desc()).limit(limit)))


def redeem(member: Member, code: str, *, bot=None) -> PromocodeRedemption:
    """Use a code once: under the code's row lock, count the use, record it and apply its effect.

    The returned redemption carries `level_change` (an XP code's level up, or None) for the bot.
    """
    found = find(member.tenant, code)
    if found is None:
        raise NotFound(f"There is no promo code {normalize(code)}.", code=normalize(code))
    _refuse_if_used(found, member)
    promocode = lock_row(Promocode, found.id, tenant_id=member.tenant_id)
    _refuse_if_unusable(promocode)
    _refuse_if_used(promocode, member)
    promocode.uses_count += 1
    redemption = PromocodeRedemption(tenant_id=member.tenant_id, promocode_id=promocode.id, member_id=member.id,
                                     bot_id=bot.id if bot is not None else None)
    db.session.add(redemption)
    db.session.flush()
    redemption.level_change = _apply(promocode, member, bot)
    return redemption


def pending_discount(member: Member) -> int:
    """The percent off the member's next plan purchase (the best unspent discount code), or 0."""
    row = _best_pending_discount(member)
    return row.promocode.value if row is not None else 0


def price_for(member: Member, plan: Plan) -> int:
    """What the member pays for `plan` now: its price less their pending discount."""
    return discounted_price(plan.price, pending_discount(member))


def consume_discount(member: Member, plan: Plan) -> int:
    """Spend the member's best pending discount on `plan`; the price to charge, in Toman."""
    row = _best_pending_discount(member)
    if row is None:
        return plan.price
    locked = lock_row(PromocodeRedemption, row.id, tenant_id=member.tenant_id)
    if locked.consumed_at is not None:
        return consume_discount(member, plan)
    locked.consumed_at = utcnow()
    db.session.flush()
    return discounted_price(plan.price, row.promocode.value)


def discounted_price(price: int, percent: int) -> int:
    """`price` less `percent`, rounded to the nearest Toman, never below 1 Toman."""
    return max(1, price - (price * percent + 50) // 100)


def _apply(promocode: Promocode, member: Member, bot):
    if promocode.kind == PromocodeKind.BALANCE.value:
        ledger.credit_member(member, promocode.value, key=f"promo:{promocode.id}:{member.id}", kind="promocode",
                             ref_type="promocode", ref_id=promocode.id, actor=f"telegram:{member.telegram_id}")
    elif promocode.kind == PromocodeKind.XP.value:
        return xp.award(member, promocode.value, source="promocode",
                                key=f"promo:{promocode.id}:{member.id}", bot=bot)
    elif promocode.kind == PromocodeKind.PLAN_DAYS.value:
        _grant_plan_days(promocode, member)
    return None


def _grant_plan_days(promocode: Promocode, member: Member) -> None:
    plan = db.session.get(Plan, promocode.plan_id) if promocode.plan_id else None
    if plan is None:
        raise PromocodeRefused(f"The plan of the promo code {promocode.code} no longer exists.")
    subscriptions.grant_or_extend(member, plan, source=SubscriptionSource.PROMOCODE.value, days=promocode.value)


def _refuse_if_unusable(promocode: Promocode) -> None:
    if not promocode.is_active:
        raise PromocodeRefused(f"The promo code {promocode.code} is no longer active.")
    if promocode.expires_at is not None and promocode.expires_at <= utcnow():
        raise PromocodeRefused(f"The promo code {promocode.code} has expired.")
    if promocode.max_uses is not None and promocode.uses_count >= promocode.max_uses:
        raise PromocodeRefused(f"The promo code {promocode.code} has been used up.")


def _refuse_if_used(promocode: Promocode, member: Member) -> None:
    used = db.session.scalar(sa.select(PromocodeRedemption.id).where(
        PromocodeRedemption.promocode_id == promocode.id, PromocodeRedemption.member_id == member.id))
    if used is not None:
        raise PromocodeRefused(f"You have already used the promo code {promocode.code}.")


def _best_pending_discount(member: Member) -> PromocodeRedemption | None:
    return db.session.scalar(
        sa.select(PromocodeRedemption).join(PromocodeRedemption.promocode)
        .where(PromocodeRedemption.tenant_id == member.tenant_id, PromocodeRedemption.member_id == member.id,
               PromocodeRedemption.consumed_at.is_(None),
               Promocode.kind == PromocodeKind.DISCOUNT_PERCENT.value)
        .order_by(Promocode.value.desc(), PromocodeRedemption.id).limit(1))


def _check_new(tenant, code, kind, value, plan, max_uses, expires_at) -> None:
    if not CODE_RE.match(code):
        raise ValidationFailed("A promo code has 3 to 32 letters, digits, dashes or underscores.")
    if kind not in KINDS:
        raise ValidationFailed(f"The kind must be one of {', '.join(KINDS)}.")
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationFailed("The value must be a whole number above zero.")
    if kind == PromocodeKind.DISCOUNT_PERCENT.value and value > MAX_DISCOUNT_PERCENT:
        raise ValidationFailed("A discount is 1 to 99 percent; give a plan free with a plan-days code.")
    if value > MAX_VALUE[kind]:
        raise ValidationFailed(f"The value is a whole number from 1 to {MAX_VALUE[kind]:,}.")
    if kind == PromocodeKind.PLAN_DAYS.value and (plan is None or plan.tenant_id != tenant.id):
        raise ValidationFailed("A plan-days code needs one of this tenant's plans.")
    if max_uses is not None and (isinstance(max_uses, bool) or not isinstance(max_uses, int) or max_uses <= 0):
        raise ValidationFailed("Max uses must be a whole number above zero, or empty for no limit.")
    if expires_at is not None and expires_at <= utcnow():
        raise ValidationFailed("The expiry must be in the future.")
    if find(tenant, code) is not None:
        raise ValidationFailed(f"The code {code} exists already.")
