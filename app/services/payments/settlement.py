"""Settling Zarinpal payments: the callback, and the reconciliation job for callbacks that never came.

    pending ──verify 100/101──> paid      (credited once: ledger key "online:<id>")
       └────NOK / refusal─────> failed ──verify 100/101──> paid   (the gateway has the money: it wins)

The verify call (payment/verify.json, with the amount from OUR row, never from the request) is made with
no lock held; the answer is then applied under the payment's row lock, which is the first lock in the money
order (payment → tenant → member, as a receipt). So twenty callbacks and the job racing for one authority
all verify, one of them credits, the others find the row paid. A transient answer (unreachable, HTTP 5xx,
-12) changes nothing: the payment stays pending for the job's next run.

The member is told through `notify_member` (an outbox row in the same transaction, one per outcome:
`once_key` "online:<id>:paid|failed"), so a rolled-back settlement tells nobody.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Member,
    OnlinePayment,
    OnlinePaymentPurpose,
    OnlinePaymentStatus,
    Plan,
    SubscriptionSource,
    Tenant,
)
from app.services import audit, clock, events, ledger, notify, promocodes, rewards, wallet
from app.services.locking import lock_row
from app.services.payments import online, zarinpal
from app.services.plans import sell_plan

log = logging.getLogger(__name__)
S, P = OnlinePaymentStatus, OnlinePaymentPurpose
ACTOR = "zarinpal"
#: A pending payment the gateway does not list as paid after this long was abandoned.
ABANDONED_AFTER = timedelta(hours=2)


def settle_callback(authority: str, status: str) -> OnlinePayment | None:
    """The payer is back from the gateway with `Authority` and `Status` (OK or NOK); None: unknown authority."""
    payment = online.find_by_authority(authority)
    if payment is None:
        return None
    if status != "OK":
        return _fail(payment, None, "cancelled by the payer")
    if payment.status == S.PAID.value:
        return payment
    return apply_answer(payment, _verify(payment), via="callback")


def apply_answer(payment: OnlinePayment, answer: zarinpal.Answer, *, via: str) -> OnlinePayment:
    """Apply a verify answer under the payment's row lock: credit once, fail, or leave pending."""
    if answer.verified:
        return _credit(payment, answer, via)
    if answer.transient:
        return payment
    return _fail(payment, answer.code, answer.message or "refused by the gateway")


def reconcile_tenant(tenant: Tenant, now: datetime) -> None:
    """A job step: verify the tenant's payments the gateway lists as paid but unverified; give up stale ones.

    Every HTTP call is made before the first lock is taken; the answers are applied afterwards.
    """
    pending = list(db.session.scalars(sa.select(OnlinePayment).where(
        OnlinePayment.tenant_id == tenant.id, OnlinePayment.status == S.PENDING.value).order_by(OnlinePayment.id)))
    answers, abandoned = _collect_answers(pending, now)
    for payment, answer in answers:
        apply_answer(payment, answer, via="reconcile")
    for payment in abandoned:
        _fail(payment, None, "not paid in time")


def _collect_answers(pending: list[OnlinePayment], now: datetime):
    by_merchant: dict[str, list[OnlinePayment]] = {}
    for payment in pending:
        merchant = online.merchant_for(payment)
        if merchant:
            by_merchant.setdefault(merchant, []).append(payment)
    answers, abandoned = [], []
    for merchant, payments in by_merchant.items():
        listing, unverified = zarinpal.unverified(merchant)
        if listing.code != 100:
            continue  # the gateway could not list: try everything again next run
        for payment in payments:
            if payment.authority in unverified:
                answers.append((payment, zarinpal.verify(merchant, payment.authority, payment.amount_rial)))
            elif payment.created_at <= now - ABANDONED_AFTER:
                abandoned.append(payment)
    return answers, abandoned


def _verify(payment: OnlinePayment) -> zarinpal.Answer:
    merchant = online.merchant_for(payment)
    if merchant is None:
        return zarinpal.Answer(None, message="merchant id removed")
    return zarinpal.verify(merchant, payment.authority, payment.amount_rial)


def _credit(payment: OnlinePayment, answer: zarinpal.Answer, via: str) -> OnlinePayment:
    locked = lock_row(OnlinePayment, payment.id, tenant_id=payment.tenant_id)
    if locked.status == S.PAID.value:
        return locked  # 101 after our own 100, or a racing callback: never a second credit
    sold = _credit_wallet(locked) if locked.purpose == P.WALLET.value else _credit_member(locked)
    locked.status, locked.paid_at, locked.verified_by = S.PAID.value, clock.now(), via
    locked.ref_id = str(answer.data.get("ref_id") or "") or None
    locked.card_pan = str(answer.data.get("card_pan") or "")[:32] or None
    locked.failure_code = locked.failure_reason = None
    db.session.flush()
    audit.record(locked.tenant_id, ACTOR, "online_payment.paid", f"online_payment:{locked.id}",
                 amount=locked.amount, ref_id=locked.ref_id, code=answer.code, via=via, purpose=locked.purpose,
                 plan_sold=sold)
    events.payment_succeeded(locked, plan_sold=sold)
    if locked.member_id is not None:
        params = {"amount": locked.amount, "ref_id": locked.ref_id or "-", "order_code": locked.order_code}
        if sold:
            _tell(locked, "paid", "notice.online_paid_plan", **params, plan_name=locked.plan.name)
        else:
            _tell(locked, "paid", "notice.online_paid", **params)
    return locked


def _tell(payment: OnlinePayment, outcome: str, text_key: str, **params) -> None:
    notify.notify_member(payment.member, text_key, once_key=f"online:{payment.id}:{outcome}", **params)


def _credit_wallet(payment: OnlinePayment) -> bool:
    tenant = db.session.get(Tenant, payment.tenant_id)
    ledger.credit_wallet(tenant, payment.amount, key=f"online:{payment.id}", kind="wallet_topup",
                         ref_type="online_payment", ref_id=payment.id, actor=ACTOR)
    return False


def _credit_member(payment: OnlinePayment) -> bool:
    """Credit the member; for a plan payment, buy the plan from it. Whether a plan was sold."""
    if payment.purpose == P.PLAN.value:
        lock_row(Tenant, payment.tenant_id)  # a sale charges the wallet: tenant before member
    member = db.session.get(Member, payment.member_id)
    ledger.credit_member(member, payment.amount, key=f"online:{payment.id}", kind="topup",
                         ref_type="online_payment", ref_id=payment.id, actor=ACTOR)
    return payment.purpose == P.PLAN.value and _sell_plan(payment, member)


def _sell_plan(payment: OnlinePayment, member: Member) -> bool:
    """Buy the plan with the money just credited, when the balance and the tenant wallet allow."""
    plan = db.session.get(Plan, payment.plan_id)
    tenant = db.session.get(Tenant, payment.tenant_id)
    price = promocodes.price_for(member, plan)
    if member.balance < price:
        return False
    if not wallet.can_cover(tenant, plan):
        wallet.alert_refused_sale(tenant, plan, actor=ACTOR)
        return False
    key = f"online:{payment.id}:purchase"
    # Bought from the balance the payment just filled; the ledger links both entries to the payment.
    sell_plan(member, plan, key=key, source=SubscriptionSource.BALANCE.value, actor=ACTOR)
    rewards.after_balance_purchase(member, price, key=key, bot=payment.bot)
    return True


def _fail(payment: OnlinePayment, code: int | None, reason: str) -> OnlinePayment:
    locked = lock_row(OnlinePayment, payment.id, tenant_id=payment.tenant_id)
    if locked.status != S.PENDING.value:
        return locked  # paid stays paid; failed is told once
    locked.status, locked.failed_at = S.FAILED.value, clock.now()
    locked.failure_code, locked.failure_reason = code, reason[:200]
    db.session.flush()
    audit.record(locked.tenant_id, ACTOR, "online_payment.failed", f"online_payment:{locked.id}",
                 code=code, reason=reason)
    if locked.member_id is not None:
        _tell(locked, "failed", "notice.online_failed", amount=locked.amount, order_code=locked.order_code)
    return locked
