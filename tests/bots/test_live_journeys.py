"""The real BotManager, polling and webhook: the purchase journey end to end; 3 bots of 2 tenants, isolation."""
from __future__ import annotations

import base64

import sqlalchemy as sa

from app.models import LedgerEntry, Member, ProcessedUpdate, Receipt, Subscription
from app.services import settings
from bots.i18n import t
from tests.bots.conftest import REAL_HANDLERS
from tests.bots.harness import buttons
from tests.waiting import wait_until

ADMIN = 880_000_001
MEMBER = 880_000_002


class LiveUser:
    """A user of one bot run by the BotManager; every action waits for the bot's visible reaction."""

    def __init__(self, sandbox, bot, user_id, language_code="en"):
        self.sandbox, self.bot_id, self.id = sandbox, bot.telegram_bot_id, user_id
        self.profile = {"id": user_id, "first_name": f"U{user_id % 1000}", "language_code": language_code}

    def messages(self):
        return self.sandbox.get(f"/sandbox/chats/{self.id}/messages", bot_id=self.bot_id)["messages"]

    def bot_messages(self):
        return [m for m in self.messages() if m["from_bot"]]

    def answers(self):
        return self.sandbox.get("/sandbox/callback-answers", bot_id=self.bot_id)["answers"]

    def _send(self, **content):
        self.sandbox.post("/sandbox/updates", {"bot_id": self.bot_id, "from": self.profile, **content})

    def says(self, text):
        before = len(self.bot_messages())
        self._send(text=text)
        wait_until(lambda: len(self.bot_messages()) > before, message=f"a reply to {text!r}")
        return self.bot_messages()[-1]

    def sends_photo(self, png):
        before = len(self.bot_messages())
        self._send(photo=base64.b64encode(png).decode())
        wait_until(lambda: len(self.bot_messages()) > before, message="a reply to the photo")
        return self.bot_messages()[-1]

    def presses(self, data):
        message = next(m for m in reversed(self.messages()) if data in buttons(m))
        before = len(self.answers())
        self._send(callback={"message_id": message["message_id"], "data": data})
        wait_until(lambda: len(self.answers()) > before, message=f"an answer to {data}")
        return self.bot_messages()[-1]


def fresh(db, statement):
    db.session.rollback()
    return db.session.scalars(statement).all()


def buy_gold_by_card(sandbox, db, bot, gold, png):
    """A member buys `gold` by card-to-card with a photo and the admin approves; returns the receipt."""
    member, admin = LiveUser(sandbox, bot, MEMBER), LiveUser(sandbox, bot, ADMIN)
    assert "Gold" in member.presses("m:plans")["text"] and "Bronze" not in member.bot_messages()[-1]["text"]
    member.presses(f"pl:{gold.id}")
    invoice = member.presses(f"pc:{gold.id}")["text"]
    assert "6037 9912 3456 7893" in invoice and "Shop Holder" in invoice and "Other" not in invoice
    assert member.sends_photo(png)["text"].startswith("✅")
    receipt = wait_until(lambda: fresh(db, sa.select(Receipt).where(Receipt.status == "pending_review")))[0]
    wait_until(lambda: admin.bot_messages(), message="the receipt in the admin chat")

    admin.presses(f"ra:{receipt.id}")

    told = wait_until(lambda: [m for m in member.bot_messages() if receipt.tracking_code in (m["text"] or "")
                               and m["text"].startswith("✅ Payment")], message="the member told")
    assert "Gold" in told[-1]["text"]
    entries = wait_until(lambda: fresh(db, sa.select(LedgerEntry).where(
        LedgerEntry.idempotency_key == f"receipt:{receipt.id}")))
    assert entries[0].amount == gold.price and entries[0].tenant_id == gold.tenant_id
    [sub] = fresh(db, sa.select(Subscription))
    assert (sub.tenant_id, sub.plan_id) == (gold.tenant_id, gold.id)
    return receipt


def two_shops(make, make_bot, db, sandbox):
    """Shop (two bots, plan Gold, admin chat) and Other (one bot, plan Bronze), each with its own card."""
    shop, other = make.tenant(name="Shop"), make.tenant(name="Other")
    bots = make_bot(shop), make_bot(shop), make_bot(other)
    gold = make.plan(shop, name="Gold", price=120_000)
    make.plan(other, name="Bronze", price=50_000)
    make.card(shop, number="6037991234567893", holder_name="Shop Holder")
    make.card(other, number="6219861234567892", holder_name="Other Holder")
    settings.update(bots[0], {"admin_chat_ids": [ADMIN]}, by="system")
    sandbox.open_chat(ADMIN, bots[0].telegram_bot_id)  # the admin started the bot on Telegram
    db.session.commit()
    return bots, gold


def test_polling_three_bots_of_two_tenants_journey_and_isolation(start_manager, sandbox, make, make_bot, db, png):
    (shop_bot, shop_bot_2, other_bot), gold = two_shops(make, make_bot, db, sandbox)
    start_manager(BOT_HANDLERS=REAL_HANDLERS)
    member = LiveUser(sandbox, shop_bot, MEMBER)
    shop_2, elsewhere = LiveUser(sandbox, shop_bot_2, MEMBER), LiveUser(sandbox, other_bot, MEMBER)

    assert member.says("/start")["text"] == t("en", "start.welcome_new", name="U2")
    assert shop_2.says("/start")["text"] == t("en", "start.welcome_back", name="U2")  # one member per tenant
    assert elsewhere.says("/start")["text"] == t("en", "start.welcome_new", name="U2")  # another tenant
    assert "Bronze" in elsewhere.presses("m:plans")["text"] and "Gold" not in elsewhere.bot_messages()[-1]["text"]
    buy_gold_by_card(sandbox, db, shop_bot, gold, png)

    members = fresh(db, sa.select(Member).where(Member.telegram_id == MEMBER))
    assert sorted(m.tenant_id for m in members) == sorted([shop_bot.tenant_id, other_bot.tenant_id])
    assert {m.balance for m in members} == {0}


def test_webhook_purchase_journey(live_app, start_manager, sandbox, make, make_bot, db, png):
    (shop_bot, _, _), gold = two_shops(make, make_bot, db, sandbox)
    start_manager(BOT_MODE="webhook", BOT_HANDLERS=REAL_HANDLERS)
    wait_until(lambda: sandbox.calls(shop_bot.telegram_bot_id, "setWebhook"), message="the webhook set")

    assert LiveUser(sandbox, shop_bot, MEMBER).says("/start")["text"] == t("en", "start.welcome_new", name="U2")
    receipt = buy_gold_by_card(sandbox, db, shop_bot, gold, png)

    assert fresh(db, sa.select(ProcessedUpdate.update_id).where(ProcessedUpdate.bot_id == shop_bot.id))
    assert fresh(db, sa.select(Receipt.status).where(Receipt.id == receipt.id)) == ["approved"]
