"""Stars: the pre-checkout check, the sale once per charge, renewals, refunds."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.models import (
    GrantState,
    LedgerEntry,
    Member,
    StarPayment,
    StarPaymentStatus,
    Subscription,
    SubscriptionStatus,
    Tenant,
)
from app.services import chat_access, stars, wallet
from app.services.errors import NotAllowed, ValidationFailed
from tests.paid_chats.conftest import outbox_rows


def paid(member, plan, charge, **extra):
    return {"invoice_payload": stars.InvoicePayload(plan.id, plan.stars_price, member.id).encode(), "currency": "XTR",
            "total_amount": plan.stars_price, "telegram_payment_charge_id": charge, **extra}


def test_pre_checkout_refuses_a_gone_plan_or_a_changed_price(db, make, vip):
    tenant, bot, _chat, plan = vip
    member = make.member(tenant)
    payload = stars.InvoicePayload(plan.id, 50, member.id).encode()
    assert stars.pre_checkout_refusal(bot, member.telegram_id, payload, "XTR", 50) is None
    assert stars.pre_checkout_refusal(bot, member.telegram_id, payload, "XTR", 40) == "stars.price_changed"
    assert stars.pre_checkout_refusal(bot, 1, payload, "XTR", 50) == "stars.plan_gone"
    assert stars.pre_checkout_refusal(bot, member.telegram_id, "nonsense", "XTR", 50) == "stars.plan_gone"
    plan.stars_price = 60
    assert stars.pre_checkout_refusal(bot, member.telegram_id, payload, "XTR", 50) == "stars.price_changed"
    plan.stars_price, plan.is_active = 50, False
    assert stars.pre_checkout_refusal(bot, member.telegram_id, payload, "XTR", 50) == "stars.plan_gone"


def test_a_payment_is_one_sale_however_often_it_arrives(db, make, vip):
    tenant, bot, chat, plan = vip
    wallet.set_wholesale_prices(0, 10)
    member = make.member(tenant, balance=5_000)
    first = stars.record_payment(bot, member.telegram_id, paid(member, plan, "ch-1", is_recurring=True,
                                                                is_first_recurring=True))
    again = stars.record_payment(bot, member.telegram_id, paid(member, plan, "ch-1", is_recurring=True,
                                                                is_first_recurring=True))
    assert again.id == first.id and db.session.query(StarPayment).count() == 1
    subscription = db.session.get(Subscription, first.subscription_id)
    assert subscription.source == "stars" and subscription.stars_recurring
    assert db.session.get(Member, member.id).balance == 5_000  # no Toman moves for the member
    wholesale = db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.kind == "wholesale")).all()
    assert [e.amount for e in wholesale] == [-10_000]
    assert chat_access.grant_of(member, chat).state == GrantState.INVITED.value
    assert stars.stars_earned(tenant) == {"net": 50, "refunded": 0, "payments": 1}


def test_a_renewal_extends_the_subscription(db, make, vip):
    tenant, bot, _chat, plan = vip
    member = make.member(tenant)
    first = stars.record_payment(bot, member.telegram_id, paid(member, plan, "ch-1", is_recurring=True,
                                                                is_first_recurring=True))
    ends = db.session.get(Subscription, first.subscription_id).ends_at
    renewal = stars.record_payment(bot, member.telegram_id, paid(member, plan, "ch-2", is_recurring=True))
    assert renewal.is_renewal and renewal.subscription_id == first.subscription_id
    assert (db.session.get(Subscription, first.subscription_id).ends_at - ends).days == 30
    assert stars.stars_earned(tenant)["net"] == 100


def test_a_payment_for_another_tenant_or_currency_is_refused(db, make, vip):
    tenant, bot, _chat, plan = vip
    member = make.member(tenant)
    other_bot = make.bot(make.tenant())
    with pytest.raises(Exception):  # noqa: B017 - NotFound: the plan is not the bot's tenant's
        stars.record_payment(other_bot, member.telegram_id, paid(member, plan, "x-1"))
    db.session.rollback()
    with pytest.raises(ValidationFailed):
        stars.record_payment(bot, member.telegram_id, paid(member, plan, "x-2", currency="USD"))


def test_a_refund_ends_the_subscription_removes_access_and_returns_the_wholesale(db, make, vip):
    tenant, bot, chat, plan = vip
    wallet.set_wholesale_prices(0, 10)
    member = make.member(tenant)
    payment = stars.record_payment(bot, member.telegram_id, paid(member, plan, "ch-9"))
    balance_after_sale = db.session.get(Tenant, tenant.id).wallet_balance
    owner = make.account()
    stars.refund(payment, by=owner)
    assert payment.status == StarPaymentStatus.REFUNDING.value
    assert db.session.get(Subscription, payment.subscription_id).status == SubscriptionStatus.CANCELLED.value
    assert chat_access.grant_of(member, chat).state == GrantState.REMOVING.value
    assert db.session.get(Tenant, tenant.id).wallet_balance == balance_after_sale + 10_000
    assert [m.payload for m in outbox_rows(db, stars.REFUND_KIND)] == [
        {"star_payment_id": payment.id, "user_id": member.telegram_id}]
    with pytest.raises(NotAllowed):
        stars.refund(payment, by=owner)
    assert stars.stars_earned(tenant) == {"net": 0, "refunded": 50, "payments": 1}


def test_the_stars_price_is_checked(db, make):
    from app.services import plans
    tenant = make.tenant()
    with pytest.raises(ValidationFailed):
        plans.create_plan(tenant, name="X", period_days=30, price=1000, stars_price=0)
    assert plans.create_plan(tenant, name="Y", period_days=30, price=1000, stars_price=25).stars_price == 25


def test_a_payment_the_tenant_cannot_sell_is_refunded(db, make, vip):
    tenant, bot, chat, plan = vip
    wallet.set_wholesale_prices(0, 10)
    db.session.get(Tenant, tenant.id).wallet_balance = 0  # a fresh, empty wallet (the seed ledger aside)
    tenant.wallet_credit_limit = 0
    member = make.member(tenant)
    payment = stars.record_payment(bot, member.telegram_id, paid(member, plan, "ch-empty"))
    assert payment.status == StarPaymentStatus.REFUNDING.value and payment.subscription_id is None
    assert [m.payload for m in outbox_rows(db, stars.REFUND_KIND)] == [
        {"star_payment_id": payment.id, "user_id": member.telegram_id}]
    assert chat_access.grant_of(member, chat) is None
    assert stars.record_payment(bot, member.telegram_id, paid(member, plan, "ch-empty")).id == payment.id
