"""End to end through the sandbox: a plan bought in Stars gives a single-use link to a channel; a join by
someone else through it is refused; the end removes and tells; join requests; a Stars subscription renews
and, cancelled, ends; a refund removes access and shows in the ledger."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.models import GrantState, LedgerEntry, PaidChat, StarPayment, Subscription, SubscriptionStatus
from app.services import channels, chat_access, wallet
from app.services.errors import ValidationFailed
from bots.i18n import t
from tests.bots.conftest import compiled_catalogs, conversation_app, fleet  # noqa: F401
from tests.helpers import csrf_token
from tests.jobs.conftest import run_job  # noqa: F401

CHAT = -1009876543210


@pytest.fixture
def club(db, make, fleet, auth):
    """A tenant (its owner signed in) with a bot the fleet runs, a channel in the sandbox, connected, and two
    plans granting it: 7 days (one invoice) and 30 days (a Stars subscription)."""
    owner = make.account()
    tenant = make.tenant(owner=owner, name="Club")
    wallet.topup_wallet(tenant, 1_000_000, key="seed", actor="system")
    wallet.set_wholesale_prices(0, 10)
    bot = make.bot(tenant)
    fleet.add(bot)
    fleet.post("/sandbox/chats", {"chat_id": CHAT, "bot_id": bot.telegram_bot_id, "type": "channel", "title": "VIP",
                                  "bot_status": "administrator"})
    chat = channels.connect_chat(tenant, bot, str(CHAT), by=owner)
    week = make.plan(tenant, name="Week", price=50_000, period_days=7, stars_price=20)
    month = make.plan(tenant, name="Month", price=150_000, period_days=30, stars_price=75)
    for plan in (week, month):
        channels.set_plan_chats(plan, [chat.id])
    db.session.commit()
    auth.login(owner.email)
    return tenant, bot, chat, week, month


def buy_in_stars(fleet, user, bot, plan):
    """Open the plan, press Pay with Stars, pay the invoice in the sandbox; the payment row of the sandbox."""
    user.presses("m:plans")
    user.presses(f"pl:{plan.id}")
    user.presses(f"ps:{plan.id}")
    invoice = fleet.get("/sandbox/invoices", bot_id=bot.telegram_bot_id)["invoices"][-1]
    assert invoice["total_amount"] == plan.stars_price and invoice["currency"] == "XTR"
    answer = fleet.post(f"/sandbox/invoices/{invoice['slug']}/pay", {"user_id": user.id, "wait": False})
    fleet.pump()  # pre_checkout_query answered → successful_payment → the sale → the invite link
    payments = fleet.get("/sandbox/payments", bot_id=bot.telegram_bot_id)["payments"]
    return next(p for p in payments if p["pre_checkout_query_id"] == answer["pre_checkout_query_id"])


def join(fleet, user_id, link=None, bot=None):
    body = {"user_id": user_id, "first_name": "U"} | ({"invite_link": link} if link else {"bot_id": bot.telegram_bot_id})
    response = fleet.http.post(f"{fleet.url}/sandbox/chats/{CHAT}/join", json=body, timeout=10)
    fleet.pump()
    return response.status_code, response.json()


def status_in_chat(fleet, bot, user_id):
    members = fleet.get(f"/sandbox/chats/{CHAT}/members", bot_id=bot.telegram_bot_id)["members"]
    return next((m["status"] for m in members if m["user"]["id"] == user_id), "left")


def test_the_bot_rights_are_read_and_what_is_missing_said(db, make, fleet, club):
    tenant, bot, chat, *_ = club
    assert chat.usable and chat.type == "channel" and chat.title == "VIP"
    fleet.post("/sandbox/chats", {"chat_id": CHAT - 1, "bot_id": bot.telegram_bot_id, "type": "supergroup",
                                  "title": "Talk", "rights": {"can_restrict_members": False}})
    weak = channels.connect_chat(tenant, bot, str(CHAT - 1), by=None)
    assert channels.missing_rights(weak) == ["can_restrict_members"]
    with pytest.raises(ValidationFailed):
        channels.connect_chat(tenant, bot, str(CHAT), by=None)  # already connected
    db.session.commit()
    # The owner takes the ban right away in Telegram: the my_chat_member update says so.
    fleet.post("/sandbox/chats", {"chat_id": CHAT, "bot_id": bot.telegram_bot_id, "rights": {"can_invite_users": False}})
    fleet.pump()
    db.session.expire_all()
    assert channels.missing_rights(db.session.get(PaidChat, chat.id)) == ["can_invite_users"]


def test_stars_purchase_link_intruder_expiry(db, make, fleet, club, run_job):
    tenant, bot, chat, week, _month = club
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    payment = buy_in_stars(fleet, sara, bot, week)
    assert payment["status"] == "paid"
    member_id = db.session.scalar(sa.select(StarPayment.member_id))
    grant = db.session.scalar(sa.select(chat_access.ChatGrant).where(chat_access.ChatGrant.member_id == member_id))
    first_link = grant.invite_link
    assert first_link and first_link in sara.last_text() and "VIP" in sara.last_text()
    assert t("en", "stars.paid", stars="20", plan="Week", end="x").split("20")[0] in \
        "\n".join(m["text"] or "" for m in sara.bot_messages())

    # Someone else comes through Sara's link first: removed at once, the link revoked, Sara gets a new one.
    code, _ = join(fleet, 9_100_001, first_link)
    assert code == 200 and status_in_chat(fleet, bot, 9_100_001) == "left"
    db.session.expire_all()
    grant = db.session.get(chat_access.ChatGrant, grant.id)
    assert grant.invite_link and grant.invite_link != first_link and grant.invite_link in sara.last_text()
    assert join(fleet, 9_100_002, first_link)[1]["description"].endswith("INVITE_HASH_EXPIRED")

    code, _ = join(fleet, sara.id, grant.invite_link)
    assert code == 200 and status_in_chat(fleet, bot, sara.id) == "member"
    db.session.expire_all()
    assert db.session.get(chat_access.ChatGrant, grant.id).state == GrantState.JOINED.value
    code, body = join(fleet, 9_100_003, grant.invite_link)  # single use: Telegram refuses a second join
    assert code == 400 and body.get("reason") == "member_limit"

    subscription = db.session.scalar(sa.select(Subscription))
    run_job("subscriptions", at=subscription.ends_at + timedelta(minutes=1))
    fleet.deliver_outbox()
    assert status_in_chat(fleet, bot, sara.id) == "left"
    db.session.expire_all()
    assert db.session.get(chat_access.ChatGrant, grant.id).state == GrantState.REMOVED.value
    assert t("en", "chats.removed", title="VIP") in [m["text"] for m in sara.bot_messages()]


def test_join_requests_approved_only_for_members_with_a_plan(db, make, fleet, club, drain_outbox):
    tenant, bot, chat, week, _month = club
    from app.models import Bot
    from app.services.bots import bot_token
    request_link = fleet.http.post(f"{fleet.url}/bot{bot_token(db.session.get(Bot, bot.id))}/createChatInviteLink",
                                   json={"chat_id": CHAT, "creates_join_request": True}, timeout=10).json()
    link = request_link["result"]["invite_link"]
    stranger = 9_200_001
    assert join(fleet, stranger, link)[1]["status"] == "requested"
    fleet.deliver_outbox()
    assert status_in_chat(fleet, bot, stranger) == "left"
    assert fleet.get(f"/sandbox/chats/{CHAT}/members", bot_id=bot.telegram_bot_id)["join_requests"] == []

    member = make.member(tenant)
    from app.services import subscriptions
    subscriptions.grant_or_extend(member, week, source="grant")
    db.session.commit()
    assert join(fleet, member.telegram_id, link)[1]["status"] == "requested"
    fleet.deliver_outbox()
    fleet.pump()
    assert status_in_chat(fleet, bot, member.telegram_id) == "member"
    db.session.expire_all()
    assert chat_access.grant_of(member, chat).state == GrantState.JOINED.value


def test_a_stars_subscription_renews_once_then_cancelled_ends(db, make, fleet, club, run_job):
    tenant, bot, chat, _week, month = club
    ali = fleet.user(bot, language_code="en")
    ali.says("/start")
    payment = buy_in_stars(fleet, ali, bot, month)
    assert payment["status"] == "paid" and payment["subscription_charge_id"]
    subscription = db.session.scalar(sa.select(Subscription))
    first_end = subscription.ends_at
    assert subscription.stars_recurring and subscription.source == "stars"

    fleet.post(f"/sandbox/star-subscriptions/{payment['telegram_payment_charge_id']}/renew", {})
    fleet.pump()
    db.session.expire_all()
    subscription = db.session.get(Subscription, subscription.id)
    assert subscription.ends_at - first_end == timedelta(days=30)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StarPayment)) == 2
    assert "🔄" in ali.last_text()

    fleet.post(f"/sandbox/star-subscriptions/{payment['telegram_payment_charge_id']}/cancel", {})
    renew = fleet.http.post(f"{fleet.url}/sandbox/star-subscriptions/{payment['telegram_payment_charge_id']}/renew",
                            json={}, timeout=10)
    assert renew.status_code == 409  # no renewal comes any more: the subscription runs to its end
    run_job("subscriptions", at=subscription.ends_at + timedelta(minutes=1))
    fleet.deliver_outbox()
    db.session.expire_all()
    assert db.session.get(Subscription, subscription.id).status == SubscriptionStatus.EXPIRED.value
    assert chat_access.grant_of(subscription.member, chat).state == GrantState.REMOVED.value


def test_a_refund_from_the_member_page_removes_access_and_shows_in_the_ledger(db, make, fleet, club, client):
    tenant, bot, chat, week, _month = club
    reza = fleet.user(bot, language_code="en")
    reza.says("/start")
    buy_in_stars(fleet, reza, bot, week)
    grant = db.session.scalar(sa.select(chat_access.ChatGrant))
    join(fleet, reza.id, grant.invite_link)
    assert status_in_chat(fleet, bot, reza.id) == "member"
    star_payment = db.session.scalar(sa.select(StarPayment))

    page = client.get(f"/members/{star_payment.member_id}")
    assert b"member-star-payments" in page.data
    response = client.post(f"/chats/stars/{star_payment.id}/refund", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    fleet.deliver_outbox()
    refunded = fleet.get("/sandbox/payments", bot_id=bot.telegram_bot_id)["payments"][-1]
    assert refunded["refunded"] is True
    assert status_in_chat(fleet, bot, reza.id) == "left"
    db.session.expire_all()
    assert db.session.get(StarPayment, star_payment.id).status == "refunded"
    assert db.session.get(Subscription, star_payment.subscription_id).status == SubscriptionStatus.CANCELLED.value
    moves = [(e.kind, e.amount) for e in db.session.scalars(
        sa.select(LedgerEntry).where(LedgerEntry.tenant_id == tenant.id).order_by(LedgerEntry.id))]
    assert moves[-2:] == [("wholesale", -5_000), ("stars_refund", 5_000)]  # the ledger shows the sale and the refund
    assert any(t("en", "stars.refunded", plan="Week", stars=20) == m["text"] for m in reza.bot_messages())
    assert b"stars-earned" in client.get("/wallet/").data


def test_a_successful_payment_delivered_twice_sells_once(db, make, fleet, club):
    tenant, bot, chat, week, _month = club
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    buy_in_stars(fleet, sara, bot, week)
    message = next(m for m in sara.messages() if m.get("successful_payment"))
    sara.sends_raw({"message": {"message_id": 99_999, "date": 0, "chat": {"id": sara.id, "type": "private"},
                                "from": sara.profile | {"is_bot": False},
                                "successful_payment": message["successful_payment"]}})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StarPayment)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Subscription)) == 1
