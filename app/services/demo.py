"""The demo tenant `make run` shows: a sandbox bot, plans, cards, members, receipts and a ledger."""
from __future__ import annotations

import random
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    PaymentCard, Plan, Receipt, ReceiptPurpose, ReceiptStatus, Subscription, SubscriptionSource, Tenant, utcnow,
)
from app.services import bots, ledger, members, tenancy
from app.services.codes import tracking_code

DEMO_EMAIL = "demo@botfleet.local"
DEMO_PASSWORD = "botfleet-demo"
DEMO_SLUG = "demo"
#: A sandbox token: the emulator accepts any well-formed token, so no Telegram account is needed.
DEMO_BOT_TOKEN = "7000001:botfleet-demo-sandbox-token"
DEMO_ADMIN_TELEGRAM_ID = 100001

PLANS = [("Bronze · 30 days", 30, 150_000, 50), ("Silver · 90 days", 90, 390_000, 200), ("Gold · 180 days", 180, 690_000, None)]
CARDS = [("6037991234567893", "Sara Ahmadi", "Melli"), ("6104337890123456", "Reza Karimi", "Mellat"),
         ("5892101234567895", "Neda Rahimi", "Sepah")]
FIRST_NAMES = ["Ali", "Maryam", "Hossein", "Zahra", "Mehdi", "Fatemeh", "Amir", "Leila", "Omid", "Shirin"]
STATUS_CYCLE = [ReceiptStatus.APPROVED, ReceiptStatus.REJECTED, ReceiptStatus.PENDING_REVIEW,
                ReceiptStatus.EXPIRED, ReceiptStatus.CANCELLED, ReceiptStatus.AWAITING_RECEIPT]


def seed() -> bool:
    """Create the demo tenant; False (and nothing written) when it already exists."""
    if db.session.scalar(sa.select(Tenant.id).where(Tenant.slug == DEMO_SLUG)):
        return False
    owner = tenancy.find_account(DEMO_EMAIL) or tenancy.create_account(DEMO_EMAIL, DEMO_PASSWORD,
                                                                       display_name="Demo Owner")
    tenant = tenancy.create_tenant("Demo VPN", owner, slug=DEMO_SLUG, wallet_credit_limit=5_000_000)
    ledger.credit_wallet(tenant, 20_000_000, key="demo:wallet", kind="wallet_topup", actor="system")
    bot = bots.create_bot(tenant, DEMO_BOT_TOKEN, telegram_bot_id=7000001, username="sandbox7000001_bot",
                          first_name="Botfleet Demo")
    bots.set_setting(bot, "admin_chat_ids", [DEMO_ADMIN_TELEGRAM_ID])
    bots.set_setting(bot, "support_contact", "@botfleet_support")
    plans = [_plan(tenant, i, *p) for i, p in enumerate(PLANS)]
    cards = [PaymentCard(tenant_id=tenant.id, card_number=n, holder_name=h, bank_name=b, daily_cap=50_000_000)
             for n, h, b in CARDS]
    db.session.add_all(cards)
    db.session.flush()
    _members_with_history(tenant, bot, plans, cards, random.Random(7))
    return True


def _plan(tenant, order, name, days, price, traffic_gb) -> Plan:
    plan = Plan(tenant_id=tenant.id, name=name, period_days=days, price=price, traffic_gb=traffic_gb, sort_order=order)
    db.session.add(plan)
    return plan


def _members_with_history(tenant, bot, plans, cards, rng) -> None:
    now = utcnow()
    for i in range(30):
        member = members.create_member(
            tenant, 200_001 + i, first_name=FIRST_NAMES[i % 10], username=f"demo_user_{i + 1}",
            language_code=("fa", "en", "ru")[i % 3], total_xp=rng.randint(0, 900),
            created_at=now - timedelta(days=rng.randint(0, 29)),
        )
        status = STATUS_CYCLE[i % len(STATUS_CYCLE)]
        _receipt(tenant, bot, member, rng.choice(cards), status, rng.choice([100_000, 250_000, 500_000]), now)
        if status == ReceiptStatus.APPROVED and i % 2 == 0:
            _buy_from_balance(tenant, member, plans[0], now)


def _receipt(tenant, bot, member, card, status, amount, now) -> Receipt:
    decided = status in (ReceiptStatus.APPROVED, ReceiptStatus.REJECTED)
    receipt = Receipt(
        tenant_id=tenant.id, bot_id=bot.id, member_id=member.id, card_id=card.id,
        purpose=ReceiptPurpose.TOPUP.value, amount=amount, tracking_code=tracking_code(), status=status.value,
        created_at=now - timedelta(hours=30), expires_at=now + timedelta(hours=20),
        submitted_at=None if status == ReceiptStatus.AWAITING_RECEIPT else now - timedelta(hours=2),
        text=None if status == ReceiptStatus.AWAITING_RECEIPT else "Transfer ref 4821",
        reviewed_at=now - timedelta(hours=1) if decided else None,
        reviewed_by_telegram_id=DEMO_ADMIN_TELEGRAM_ID if decided else None,
        reject_reason="The amount does not match" if status == ReceiptStatus.REJECTED else None,
    )
    db.session.add(receipt)
    db.session.flush()
    card.times_shown += 1
    if status == ReceiptStatus.APPROVED:
        card.approved_count += 1
        ledger.credit_member(member, amount, key=f"receipt:{receipt.id}", kind="topup", ref_type="receipt",
                             ref_id=receipt.id, actor=f"telegram:{DEMO_ADMIN_TELEGRAM_ID}")
    elif status == ReceiptStatus.REJECTED:
        card.rejected_count += 1
    return receipt


def _buy_from_balance(tenant, member, plan, now) -> None:
    if member.balance < plan.price:
        return
    subscription = Subscription(
        tenant_id=tenant.id, member_id=member.id, plan_id=plan.id, starts_at=now,
        ends_at=now + timedelta(days=plan.period_days), source=SubscriptionSource.BALANCE.value,
        traffic_limit_bytes=plan.traffic_gb * 1024**3 if plan.traffic_gb else None,
    )
    db.session.add(subscription)
    db.session.flush()
    ledger.debit_member(member, plan.price, key=f"subscription:{subscription.id}", kind="purchase",
                        ref_type="subscription", ref_id=subscription.id, actor=f"telegram:{member.telegram_id}")
    member.is_newcomer = False
