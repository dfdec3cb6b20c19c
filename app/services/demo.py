"""The demo tenant `make run` shows: a sandbox bot, plans, cards, members, receipts and a ledger."""
from __future__ import annotations

import random
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import (
    DailyStat,
    LedgerEntry,
    PaymentCard,
    Receipt,
    ReceiptStatus,
    Subscription,
    SubscriptionStatus,
    Tenant,
    utcnow,
)
from app.services import bots, cards, clock, members, plans, promocodes, receipts, settings, tenancy, wallet
from app.services.panels import admin as panel_admin
from app.services.receipts import Reviewer

DEMO_EMAIL = "demo@botfleet.local"
DEMO_PASSWORD = "botfleet-demo"
DEMO_SLUG = "demo"
#: A sandbox token: the emulator accepts any well-formed token, so no Telegram account is needed.
DEMO_BOT_TOKEN = "7000001:botfleet-demo-sandbox-token"
DEMO_SECOND_BOT_TOKEN = "7000002:botfleet-demo-second-token"
DEMO_ADMIN_TELEGRAM_ID = 100001
#: Decided receipts are dated on their member's join day, so the charts show a month, not one spike.
DECIDED = (ReceiptStatus.APPROVED, ReceiptStatus.REJECTED, ReceiptStatus.EXPIRED, ReceiptStatus.CANCELLED)
ADMIN = Reviewer(telegram_id=DEMO_ADMIN_TELEGRAM_ID)
#: The sandbox panel emulators' admin login (bots/emulator/panels).
DEMO_PANEL_LOGIN = ("admin", "admin")

PLANS = [("Bronze · 30 days", 30, 150_000, 50), ("Silver · 90 days", 90, 390_000, 200), ("Gold · 180 days", 180, 690_000, None)]
CARDS = [("6037991234567893", "Sara Ahmadi", "Melli"), ("6104337890123456", "Reza Karimi", "Mellat"),
         ("5892101234567895", "Neda Rahimi", "Sepah")]
FIRST_NAMES = ["Ali", "Maryam", "Hossein", "Zahra", "Mehdi", "Fatemeh", "Amir", "Leila", "Omid", "Shirin"]
#: Members who joined before the last 30 days and keep buying (Member counts: 30 new + these).
REGULARS = 40
#: Days of DailyStat snapshots: the month chart's twelve months need the regulars' six.
HISTORY_DAYS = 190
#: Daily caps the demo cards end with (seeding runs with a high cap so every approval fits).
CARD_CAPS = (3_000_000, 2_000_000, None)
STATUS_CYCLE = [ReceiptStatus.APPROVED, ReceiptStatus.REJECTED, ReceiptStatus.PENDING_REVIEW,
                ReceiptStatus.EXPIRED, ReceiptStatus.CANCELLED, ReceiptStatus.AWAITING_RECEIPT]


def seed() -> bool:
    """Create the demo tenant; False (and nothing written) when it already exists."""
    if db.session.scalar(sa.select(Tenant.id).where(Tenant.slug == DEMO_SLUG)):
        return False
    owner = tenancy.find_account(DEMO_EMAIL) or tenancy.create_account(DEMO_EMAIL, DEMO_PASSWORD,
                                                                       display_name="Demo Owner")
    tenant = tenancy.create_tenant("Demo VPN", owner, slug=DEMO_SLUG, wallet_credit_limit=5_000_000)
    wallet.topup_wallet(tenant, 60_000_000, key="demo:wallet", actor="system")
    bot = bots.create_bot(tenant, DEMO_BOT_TOKEN, telegram_bot_id=7000001, username="sandbox7000001_bot",
                          first_name="Botfleet Demo")
    settings.update(bot, {"admin_chat_ids": [DEMO_ADMIN_TELEGRAM_ID], "support_contact": "@botfleet_support"},
                    by="system")
    owner.is_platform_admin = True  # the demo owner sees the platform pages too (make run says so)
    bots.create_bot(tenant, DEMO_SECOND_BOT_TOKEN, telegram_bot_id=7000002, username="sandbox7000002_bot",
                    first_name="Botfleet Demo Support")
    promocodes.create_promocode(tenant, code="WELCOME10", kind="discount_percent", value=10, max_uses=100)
    settings.update(tenant, {"referral_bonus_toman": 20_000}, by="system")
    sale_plans = [plans.create_plan(tenant, name=name, period_days=days, price=price, traffic_gb=gb)
                  for name, days, price, gb in PLANS]
    _sandbox_panel(tenant, sale_plans)
    for number, holder, bank in CARDS:
        cards.create_card(tenant, card_number=number, holder_name=holder, bank_name=bank, daily_cap=50_000_000)
    _members_with_history(tenant, bot, sale_plans, random.Random(7))
    _regular_buyers(tenant, bot, sale_plans, random.Random(11))
    _cards_today(tenant)
    _snapshot_history(tenant)
    return True


def _sandbox_panel(tenant, sale_plans) -> None:
    """The sandbox's Marzban emulator serves every demo plan: a purchase gets a real link and QR code."""
    base_url = current_app.config["TELEGRAM_API_URL"].rstrip("/") + "/panels/marzban"
    panel = panel_admin.create_panel(tenant, name="Sandbox Marzban", kind="marzban", base_url=base_url,
                                     username=DEMO_PANEL_LOGIN[0], password=DEMO_PANEL_LOGIN[1])
    for plan in sale_plans:
        panel_admin.map_plan(tenant, plan, panel, {"proxies": {"vless": {}, "vmess": {}}})


def _members_with_history(tenant, bot, sale_plans, rng) -> None:
    now = utcnow()
    for i in range(30):
        member = members.create_member(
            tenant, 200_001 + i, first_name=FIRST_NAMES[i % 10], username=f"demo_user_{i + 1}",
            language_code=("fa", "en", "ru")[i % 3], total_xp=rng.randint(0, 900),
            created_at=now - timedelta(days=rng.randint(0, 29)),
        )
        status = STATUS_CYCLE[i % len(STATUS_CYCLE)]
        receipt = _receipt(tenant, bot, member, status, rng.choice([100_000, 250_000, 500_000]))
        if status in DECIDED:
            _dated(receipt, member.created_at + timedelta(hours=rng.randint(1, 20)))
        if status == ReceiptStatus.APPROVED and i % 2 == 0 and member.balance >= sale_plans[0].price:
            _bought_at(tenant, member, sale_plans[0], f"demo:purchase:{member.id}", receipt.reviewed_at)


def _regular_buyers(tenant, bot, sale_plans, rng) -> None:
    """Members who joined one to six months ago and buy again every month or so: the week and month
    charts have history, and returning buyers show next to new ones. A few buy today."""
    now = utcnow()
    for i in range(REGULARS):
        joined = now - timedelta(days=rng.randint(35, 180))
        member = members.create_member(
            tenant, 200_101 + i, first_name=FIRST_NAMES[(i + 3) % 10], username=f"regular_{i + 1}",
            language_code=("fa", "en", "ru")[i % 3], total_xp=rng.randint(100, 2500), created_at=joined)
        moment = joined + timedelta(hours=rng.randint(2, 48))
        while moment < now:
            _dated_purchase(tenant, bot, member, rng.choice(sale_plans[:2] + sale_plans[:1]), moment)
            moment += timedelta(days=rng.randint(20, 45), hours=rng.randint(0, 12))
        if i % 13 == 0:
            _dated_purchase(tenant, bot, member, sale_plans[0], now - timedelta(minutes=30 + i))


def _dated_purchase(tenant, bot, member, plan, moment) -> None:
    """A top-up receipt approved at `moment` and the plan bought from the balance right after."""
    receipt = _receipt(tenant, bot, member, ReceiptStatus.APPROVED, plan.price)
    _dated(receipt, moment - timedelta(minutes=40))
    _bought_at(tenant, member, plan, f"demo:purchase:{member.id}:{moment:%Y%m%d%H%M}", moment)


def _bought_at(tenant, member, plan, key, moment) -> None:
    """The plan bought from the balance, dated `moment` (subscription and ledger entries)."""
    subscription = plans.purchase_from_balance(member, plan, key=key, actor=f"telegram:{member.telegram_id}")
    subscription.created_at = subscription.starts_at = moment
    subscription.ends_at = moment + timedelta(days=plan.period_days)
    if subscription.ends_at < utcnow():
        subscription.status = SubscriptionStatus.EXPIRED.value
    db.session.execute(sa.update(LedgerEntry).where(LedgerEntry.tenant_id == tenant.id, LedgerEntry.idempotency_key.like(f"{key}%"))
                       .values(created_at=moment))
    db.session.flush()


def _cards_today(tenant) -> None:
    """Caps a small shop would set, and each card's received total counted from today's approvals only
    (the history above was approved while seeding)."""
    start = clock.day_bounds(tenant.timezone, clock.tenant_today(tenant))[0]
    for card, cap in zip(db.session.scalars(sa.select(PaymentCard).where(PaymentCard.tenant_id == tenant.id)
                                            .order_by(PaymentCard.id)), CARD_CAPS):
        card.daily_cap = cap
        card.received_day = clock.tenant_today(tenant)
        card.received_today = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Receipt.amount), 0)).where(
            Receipt.card_id == card.id, Receipt.status == ReceiptStatus.APPROVED.value, Receipt.reviewed_at >= start))
    db.session.flush()


def _receipt(tenant, bot, member, status, amount) -> Receipt:
    """A receipt walked through the real lifecycle to `status`."""
    receipt = receipts.open_invoice(member, amount=amount, bot=bot)
    if status == ReceiptStatus.CANCELLED:
        return receipts.cancel(receipt, member)
    if status == ReceiptStatus.EXPIRED:
        receipt.expires_at = utcnow() - timedelta(minutes=1)
        receipts.expire_stale(tenant)
        return receipt
    if status != ReceiptStatus.AWAITING_RECEIPT:
        receipts.submit(receipt, text="Transfer ref 4821")
    if status == ReceiptStatus.APPROVED:
        receipts.approve(receipt, ADMIN)
    elif status == ReceiptStatus.REJECTED:
        receipts.reject(receipt, ADMIN, "The amount does not match")
    return receipt


def _dated(receipt: Receipt, moment) -> None:
    receipt.created_at = receipt.submitted_at = moment
    receipt.expires_at = moment + timedelta(hours=24)
    if receipt.reviewed_at is not None:
        receipt.reviewed_at = moment + timedelta(minutes=30)
    db.session.flush()


def _snapshot_history(tenant) -> None:
    """The daily figures of the last HISTORY_DAYS days, as the nightly job would have written them.

    Traffic is spread over the days its plans were bought (the seeding itself sold it all today), and the
    tenant's running counters are set to the rows' sums, as the nightly job keeps them.
    """
    from app.jobs.stats import snapshot_day

    now = clock.now()
    today = clock.tenant_today(tenant, now)
    for back in range(HISTORY_DAYS, 0, -1):
        snapshot_day(tenant, today - timedelta(days=back), now)
    sold: dict = {}
    for created_at, limit in db.session.execute(sa.select(Subscription.created_at, Subscription.traffic_limit_bytes)
                                                .where(Subscription.tenant_id == tenant.id)):
        day = min(clock.local_day(tenant.timezone, created_at), today - timedelta(days=1))
        sold[day] = sold.get(day, 0) + (limit or 0)
    for stat in db.session.scalars(sa.select(DailyStat).where(DailyStat.tenant_id == tenant.id)):
        stat.traffic_sold_bytes = sold.get(stat.day, 0)
        stat.traffic_consumed_bytes = stat.traffic_sold_bytes * (40 + stat.day.toordinal() % 37) // 100
    db.session.flush()
    totals = db.session.execute(sa.select(sa.func.sum(DailyStat.traffic_sold_bytes),
                                          sa.func.sum(DailyStat.traffic_consumed_bytes))
                                .where(DailyStat.tenant_id == tenant.id)).one()
    tenant.traffic_sold_bytes, tenant.traffic_consumed_bytes = int(totals[0] or 0), int(totals[1] or 0)
    db.session.flush()
