"""The demo tenant `make run` shows: a sandbox bot, plans, cards, members, receipts and a ledger."""
from __future__ import annotations

import random
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import Receipt, ReceiptStatus, Tenant, utcnow
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
STATUS_CYCLE = [ReceiptStatus.APPROVED, ReceiptStatus.REJECTED, ReceiptStatus.PENDING_REVIEW,
                ReceiptStatus.EXPIRED, ReceiptStatus.CANCELLED, ReceiptStatus.AWAITING_RECEIPT]


def seed() -> bool:
    """Create the demo tenant; False (and nothing written) when it already exists."""
    if db.session.scalar(sa.select(Tenant.id).where(Tenant.slug == DEMO_SLUG)):
        return False
    owner = tenancy.find_account(DEMO_EMAIL) or tenancy.create_account(DEMO_EMAIL, DEMO_PASSWORD,
                                                                       display_name="Demo Owner")
    tenant = tenancy.create_tenant("Demo VPN", owner, slug=DEMO_SLUG, wallet_credit_limit=5_000_000)
    wallet.topup_wallet(tenant, 20_000_000, key="demo:wallet", actor="system")
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
            plans.purchase_from_balance(member, sale_plans[0], key=f"demo:purchase:{member.id}",
                                        actor=f"telegram:{member.telegram_id}")


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
    """The daily figures of the last 30 days, as the nightly job would have written them."""
    from app.jobs.stats import snapshot_day

    now = clock.now()
    today = clock.tenant_today(tenant, now)
    for back in range(1, 31):
        snapshot_day(tenant, today - timedelta(days=back), now)
