"""Starting a Zarinpal payment: a member paying their tenant (top-up or plan), or a tenant paying the platform.

The gateway call (payment/request.json) happens BEFORE anything is written or locked in the caller's
transaction: the authority comes back first, then the OnlinePayment row is inserted with it. A gateway
that is slow or down therefore holds no row lock of ours; the caller's transaction only inserts a new row.
"""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import Account, Bot, Member, OnlinePayment, OnlinePaymentPurpose, Plan, Tenant
from app.services import audit, crypto, promocodes
from app.services.amounts import check_amount
from app.services.bots import feature_enabled
from app.services.codes import random_code
from app.services.errors import DomainError, NotAllowed, NotFound, ValidationFailed
from app.services.lookup import get_owned
from app.services.payments import zarinpal
from app.services.plans import check_on_sale

FEATURE = "zarinpal"
CALLBACK_PATH = "/pay/zarinpal/callback"
MERCHANT_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
#: Zarinpal's minimum: 1,000 Toman.
MIN_TOMAN = 1_000
P = OnlinePaymentPurpose


class GatewayRefused(DomainError):
    """The gateway did not issue an authority (refused, or unreachable)."""

    code = "gateway_refused"


def set_merchant_id(tenant: Tenant, merchant_id: str | None, *, actor: str) -> None:
    """Store (encrypted) or clear the tenant's Zarinpal merchant id, a 36-character UUID."""
    merchant_id = (merchant_id or "").strip()
    if merchant_id and not MERCHANT_RE.match(merchant_id):
        raise ValidationFailed("A Zarinpal merchant id has 36 characters, like "
                               "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx.")
    tenant.zarinpal_merchant_encrypted = crypto.encrypt(merchant_id) if merchant_id else None
    db.session.flush()
    audit.record(tenant.id, actor, "zarinpal.merchant_set" if merchant_id else "zarinpal.merchant_cleared",
                 f"tenant:{tenant.id}", hint=merchant_id[-4:] if merchant_id else None)


def merchant_id_of(tenant: Tenant) -> str | None:
    """The tenant's merchant id in clear, for the gateway calls only; never render or log it."""
    if not tenant.zarinpal_merchant_encrypted:
        return None
    return crypto.decrypt(tenant.zarinpal_merchant_encrypted)


def merchant_hint(tenant: Tenant) -> str | None:
    """The last four characters, the only part ever shown."""
    merchant = merchant_id_of(tenant)
    return merchant[-4:] if merchant else None


def platform_merchant_id() -> str | None:
    return current_app.config.get("PLATFORM_ZARINPAL_MERCHANT_ID") or None


def merchant_for(payment: OnlinePayment) -> str | None:
    """Whose merchant the payment went to: the platform's for a wallet top-up, else the tenant's."""
    if payment.purpose == P.WALLET.value:
        return platform_merchant_id()
    return merchant_id_of(db.session.get(Tenant, payment.tenant_id))


def available_for(bot: Bot) -> bool:
    """Whether the bot offers Zarinpal: its `zarinpal` feature is on and the tenant set a merchant id."""
    return feature_enabled(bot, FEATURE) and bot.tenant.zarinpal_merchant_encrypted is not None


def start_member_payment(member: Member, bot: Bot, *, amount: int | None = None,
                         plan: Plan | None = None) -> OnlinePayment:
    """Ask the gateway for an authority to pay `amount` Toman (a top-up) or the price of `plan`."""
    if bot.tenant_id != member.tenant_id:
        raise NotFound("No such bot.")
    if member.is_banned:
        raise NotAllowed("This account is blocked.")
    if not available_for(bot):
        raise NotAllowed("Online payment is not available in this bot.")
    purpose, amount = _purpose_and_amount(member, amount, plan)
    description = f"{bot.tenant.name[:60]} — {plan.name[:60] if plan else 'top-up'}"
    return _start(member.tenant_id, merchant_id_of(bot.tenant), amount, purpose, description,
                  metadata={},  # members have no phone number on file, so no "mobile"
                  member_id=member.id, bot_id=bot.id, plan_id=plan.id if plan else None)


def start_wallet_payment(tenant: Tenant, account: Account, amount: int) -> OnlinePayment:
    """The owner tops up the tenant wallet by paying the platform's merchant."""
    merchant = platform_merchant_id()
    if merchant is None:
        raise NotAllowed("Online wallet top-up is not set up on this platform; pay by card-to-card instead.")
    amount = _at_least_minimum(check_amount(amount))
    return _start(tenant.id, merchant, amount, P.WALLET.value, f"Botfleet wallet — {tenant.name[:80]}",
                  metadata={"email": account.email}, account_id=account.id)


def find_by_authority(authority: str) -> OnlinePayment | None:
    authority = (authority or "").strip()
    if not authority or len(authority) > 64:
        return None
    return db.session.scalar(sa.select(OnlinePayment).where(OnlinePayment.authority == authority))


def get_payment(tenant: Tenant, payment_id: int) -> OnlinePayment:
    return get_owned(OnlinePayment, tenant, payment_id, "No such payment.")


def _purpose_and_amount(member: Member, amount, plan) -> tuple[str, int]:
    if (amount is None) == (plan is None):
        raise ValidationFailed("A payment is either a top-up amount or a plan.")
    if plan is not None:
        return P.PLAN.value, _at_least_minimum(promocodes.price_for(member, check_on_sale(member, plan)))
    return P.TOPUP.value, _at_least_minimum(check_amount(amount))


def _at_least_minimum(amount: int) -> int:
    if amount < MIN_TOMAN:
        raise ValidationFailed(f"Online payments start at {MIN_TOMAN:,} Toman.")
    return amount


def _start(tenant_id: int, merchant: str | None, amount: int, purpose: str, description: str, *,
           metadata: dict, **fields) -> OnlinePayment:
    if merchant is None:
        raise NotAllowed("Online payment is not set up.")
    order_code = f"ZP-{random_code(8)}"
    answer = zarinpal.request_payment(
        merchant, amount * 10, description=description, callback_url=callback_url(),
        metadata={k: v for k, v in {**metadata, "order_id": order_code}.items() if v})
    authority = answer.data.get("authority") if answer.code == 100 else None
    if not authority:
        raise GatewayRefused("The payment gateway did not accept the payment right now; please try again "
                             "later or pay by card.", gateway_code=answer.code)
    payment = OnlinePayment(tenant_id=tenant_id, purpose=purpose, amount=amount, order_code=order_code,
                            authority=str(authority), **fields)
    db.session.add(payment)
    db.session.flush()
    return payment


def callback_url() -> str:
    """The public callback the gateway sends the payer back to."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + CALLBACK_PATH
