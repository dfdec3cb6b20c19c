"""Paid access as real clients see it (issue 18): aiogram drives a channel's members, invite links,
join requests and bans; python-telegram-bot (strict about required fields) drives the Telegram
Stars flow. Field names and error texts follow the Bot API documentation."""

import asyncio

import pytest
from aiogram.exceptions import TelegramBadRequest
from telegram import LabeledPrice
from telegram.error import BadRequest

from tests.conformance.test_aiogram import run_with_bot as run_aiogram
from tests.conformance.test_python_telegram_bot import ptb_message
from tests.conformance.test_python_telegram_bot import run_with_bot as run_ptb

pytestmark = pytest.mark.timeout(60)

CHANNEL = -1007770001
BUYER, STRANGER = 8801, 8802
MONTH = 2_592_000
ALL_MEMBER_UPDATES = ["message", "chat_member", "my_chat_member", "chat_join_request",
                      "pre_checkout_query"]


def channel(sandbox, bot_id, **extra):
    return sandbox.post("/sandbox/chats", {"chat_id": CHANNEL, "bot_id": bot_id, "type": "channel",
                                           "title": "Signals", **extra})


def join(sandbox, user_id, link):
    return sandbox.http.post(f"{sandbox.url}/sandbox/chats/{CHANNEL}/join",
                             json={"user_id": user_id, "first_name": "Buyer", "invite_link": link},
                             timeout=10)


def test_aiogram_single_use_link_join_ban_and_unban(sandbox):
    token, bot_id = sandbox.new_bot()

    async def scenario(bot):
        await bot.get_updates(timeout=0, allowed_updates=ALL_MEMBER_UPDATES)
        channel(sandbox, bot_id)
        me = await bot.get_chat_member(CHANNEL, bot_id)
        link = await bot.create_chat_invite_link(CHANNEL, name="order 17", member_limit=1)
        joined = await asyncio.to_thread(join, sandbox, BUYER, link.invite_link)
        refused = await asyncio.to_thread(join, sandbox, STRANGER, link.invite_link)
        count = await bot.get_chat_member_count(CHANNEL)
        banned = await bot.ban_chat_member(CHANNEL, BUYER)
        kicked = await bot.get_chat_member(CHANNEL, BUYER)
        await bot.unban_chat_member(CHANNEL, BUYER, only_if_banned=True)
        after = await bot.get_chat_member(CHANNEL, BUYER)
        updates = await bot.get_updates(timeout=0)
        return me, link, joined, refused, count, banned, kicked, after, updates

    me, link, joined, refused, count, banned, kicked, after, updates = run_aiogram(
        sandbox, token, scenario)
    assert (me.status, me.can_invite_users, me.can_restrict_members) == ("administrator", True, True)
    assert (link.name, link.member_limit, link.creates_join_request) == ("order 17", 1, False)
    assert joined.json()["status"] == "member"
    assert (refused.status_code, refused.json()["reason"]) == (400, "member_limit")
    assert count == 3 and banned is True
    assert kicked.status == "kicked"
    assert after.status == "left"
    [added] = [u.my_chat_member for u in updates if u.my_chat_member]
    assert (added.chat.type, added.new_chat_member.status) == ("channel", "administrator")
    changes = [u.chat_member for u in updates if u.chat_member]
    assert [(c.old_chat_member.status, c.new_chat_member.status) for c in changes] == [
        ("left", "member"), ("member", "kicked"), ("kicked", "left")]
    assert changes[0].invite_link.invite_link == link.invite_link
    assert changes[1].from_user.id == bot_id


def test_aiogram_join_requests_and_missing_rights(sandbox):
    token, bot_id = sandbox.new_bot()

    async def scenario(bot):
        await bot.get_updates(timeout=0, allowed_updates=ALL_MEMBER_UPDATES)
        channel(sandbox, bot_id, rights={"can_restrict_members": False})
        link = await bot.create_chat_invite_link(CHANNEL, creates_join_request=True)
        for user_id in (BUYER, STRANGER):
            await asyncio.to_thread(join, sandbox, user_id, link.invite_link)
        updates = await bot.get_updates(timeout=0)
        approved = await bot.approve_chat_join_request(CHANNEL, BUYER)
        declined = await bot.decline_chat_join_request(CHANNEL, STRANGER)
        with pytest.raises(TelegramBadRequest) as missing:
            await bot.approve_chat_join_request(CHANNEL, STRANGER)
        with pytest.raises(TelegramBadRequest) as no_rights:
            await bot.ban_chat_member(CHANNEL, BUYER)
        members = [await bot.get_chat_member(CHANNEL, u) for u in (BUYER, STRANGER)]
        return updates, approved, declined, missing.value, no_rights.value, members

    updates, approved, declined, missing, no_rights, members = run_aiogram(sandbox, token, scenario)
    requests = [u.chat_join_request for u in updates if u.chat_join_request]
    assert [(r.from_user.id, r.user_chat_id) for r in requests] == [(BUYER, BUYER),
                                                                    (STRANGER, STRANGER)]
    assert approved is True and declined is True
    assert missing.message == "Bad Request: HIDE_REQUESTER_MISSING"
    assert no_rights.message == "Bad Request: not enough rights to restrict/unrestrict chat member"
    assert [m.status for m in members] == ["member", "left"]


def answer_when_asked(sandbox, bot, ok, error_message=None):
    """Pay as BUYER without waiting, then answer the pre-checkout query as the bot."""
    async def run(slug):
        await asyncio.to_thread(sandbox.post, f"/sandbox/invoices/{slug}/pay",
                                {"user_id": BUYER, "first_name": "Buyer", "wait": False})
        updates = await bot.get_updates(timeout=0)
        query = updates[-1].pre_checkout_query
        await bot.answer_pre_checkout_query(query.id, ok, error_message=error_message)
        await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
        return query
    return run


def test_ptb_stars_subscription_paid_renewed_refunded(sandbox):
    token, bot_id = sandbox.new_bot()

    async def scenario(bot):
        link = await bot.create_invoice_link("Signals", "30 days of signals", "plan:9", "XTR",
                                             [LabeledPrice("Signals", 120)], provider_token="",
                                             subscription_period=MONTH)
        slug = link.rsplit("$", 1)[1]
        query = await answer_when_asked(sandbox, bot, True)(slug)
        first = (await bot.get_updates(timeout=0))[-1].message.successful_payment
        renewal = await asyncio.to_thread(
            sandbox.post, f"/sandbox/star-subscriptions/{first.telegram_payment_charge_id}/renew", {})
        updates = await bot.get_updates(timeout=0)
        second = updates[-1].message.successful_payment
        refunded = await bot.refund_star_payment(BUYER, second.telegram_payment_charge_id)
        with pytest.raises(BadRequest) as twice:
            await bot.refund_star_payment(BUYER, second.telegram_payment_charge_id)
        with pytest.raises(BadRequest) as unknown:
            await bot.refund_star_payment(BUYER, "stxunknown")
        transactions = await bot.get_star_transactions()
        return link, query, first, renewal, second, refunded, twice.value, unknown.value, transactions

    (link, query, first, renewal, second, refunded, twice, unknown,
     transactions) = run_ptb(sandbox, token, scenario)
    assert link.startswith("https://t.me/$")
    assert (query.from_user.id, query.currency, query.total_amount, query.invoice_payload) == (
        BUYER, "XTR", 120, "plan:9")
    assert (first.currency, first.total_amount, first.is_recurring, first.is_first_recurring) == (
        "XTR", 120, True, True)
    assert second.is_recurring is True and second.is_first_recurring is not True
    assert second.telegram_payment_charge_id == renewal["telegram_payment_charge_id"]
    assert (second.subscription_expiration_date - first.subscription_expiration_date).days == 30
    assert refunded is True
    assert twice.message == ptb_message("Bad Request: CHARGE_ALREADY_REFUNDED")
    assert unknown.message == ptb_message("Bad Request: CHARGE_NOT_FOUND")
    kinds = [(t.amount, t.source is not None, t.receiver is not None)
             for t in transactions.transactions]
    assert kinds == [(120, True, False), (120, True, False), (120, False, True)]
    assert transactions.transactions[0].source.user.id == BUYER


def test_ptb_declined_pre_checkout_and_invoice_refusals(sandbox):
    token, bot_id = sandbox.new_bot()
    sandbox.user_writes(bot_id, "hi", user_id=BUYER)

    async def scenario(bot):
        await bot.get_updates(timeout=0)
        message = await bot.send_invoice(BUYER, "Signals", "a month", "plan:9", "XTR",
                                         [LabeledPrice("Signals", 40)], provider_token="")
        await bot.get_updates(offset=(await bot.get_updates(timeout=0))[-1].update_id + 1,
                              timeout=0)
        slug = sandbox.messages(bot_id, BUYER)[-1]["invoice"]["slug"]
        await answer_when_asked(sandbox, bot, False, "Sold out")(slug)
        refusals = []
        for currency, prices, extra in [("USD", [40], {}), ("XTR", [40, 5], {}),
                                        ("XTR", [40], {"subscription_period": 3600})]:
            with pytest.raises(BadRequest) as refused:
                await bot.create_invoice_link("Signals", "a month", "plan:9", currency,
                                              [LabeledPrice("x", p) for p in prices],
                                              provider_token="", **extra)
            refusals.append(refused.value.message)
        return message, refusals

    message, refusals = run_ptb(sandbox, token, scenario)
    assert (message.invoice.currency, message.invoice.total_amount) == ("XTR", 40)
    assert message.reply_markup.inline_keyboard[0][0].pay is True
    [payment] = sandbox.get("/sandbox/payments", bot_id=bot_id)["payments"]
    assert (payment["status"], payment["error_message"]) == ("declined", "Sold out")
    assert refusals == [ptb_message(f"Bad Request: {code}") for code in (
        "PAYMENT_PROVIDER_INVALID", "STARS_INVOICE_INVALID", "SUBSCRIPTION_PERIOD_INVALID")]


def test_member_updates_reach_a_webhook_only_when_it_asked_for_them(sandbox, webhook_receiver):
    token, bot_id = sandbox.new_bot()
    channel(sandbox, bot_id)
    link = sandbox.raw("createChatInviteLink", token, chat_id=CHANNEL).json()["result"]["invite_link"]
    assert sandbox.raw("setWebhook", token, url=webhook_receiver.url,
                       allowed_updates=["message"]).json()["ok"]
    assert join(sandbox, BUYER, link).json() == {"status": "member", "update_id": None}
    sandbox.raw("setWebhook", token, url=webhook_receiver.url, allowed_updates=["chat_member"])
    assert join(sandbox, STRANGER, link).json()["status"] == "member"
    [(update, _secret)] = webhook_receiver.wait_for_deliveries(1)
    change = update["chat_member"]
    assert (change["from"]["id"], change["new_chat_member"]["status"]) == (STRANGER, "member")
    assert change["invite_link"]["invite_link"] == link
