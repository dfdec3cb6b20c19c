"""Telegram Stars in the sandbox: invoices, the pre-checkout round trip, subscriptions renewed and
cancelled, refunds and transactions (issue 18), driven by pyTelegramBotAPI and the control API."""

import threading

import pytest
from telebot import types
from telebot.apihelper import ApiTelegramException

USER = 5561
MONTH = 2_592_000


def error_of(call):
    with pytest.raises(ApiTelegramException) as raised:
        call()
    return raised.value.error_code, raised.value.description


def stars_link(bot, amount=50, **extra):
    return bot.create_invoice_link("VIP", "a month of VIP", "plan:7", "", "XTR",
                                   [types.LabeledPrice("VIP", amount)], **extra)


def slug_of(link):
    return link.rsplit("$", 1)[1]


def answering(bot, ok=True, error_message=None):
    """A thread that answers the next pre-checkout query the way the bot decides."""
    def run():
        for _ in range(20):
            for update in bot.get_updates(long_polling_timeout=1):
                if update.pre_checkout_query:
                    bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok,
                                                  error_message=error_message)
                    return
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def payments_in(bot):
    return [u.message.successful_payment for u in bot.get_updates(long_polling_timeout=1)
            if u.message and u.message.successful_payment]


def pay(control, slug, **extra):
    return control.post(f"/sandbox/invoices/{slug}/pay", {"user_id": USER, **extra})


def test_send_invoice_shows_a_pay_button_and_paying_sends_successful_payment(make_bot, control):
    bot, bot_id = make_bot()
    control.post("/sandbox/chats", {"chat_id": USER, "bot_id": bot_id})
    message = bot.send_invoice(USER, "VIP", "a month", "plan:7", "", "XTR",
                               [types.LabeledPrice("VIP", 25)])
    assert (message.invoice.currency, message.invoice.total_amount) == ("XTR", 25)
    assert message.reply_markup.keyboard[0][0].pay is True
    [entry] = control.messages(bot_id, USER)
    slug = entry["invoice"]["slug"]
    [invoice] = control.get("/sandbox/invoices", bot_id=bot_id).json()["invoices"]
    assert (invoice["slug"], invoice["chat_id"], invoice["message_id"], invoice["link"]) == (
        slug, USER, message.message_id, None)
    thread = answering(bot)
    outcome = pay(control, slug).json()
    thread.join(10)
    assert outcome["status"] == "paid" and outcome["telegram_payment_charge_id"]
    [paid] = payments_in(bot)
    assert (paid.currency, paid.total_amount, paid.invoice_payload) == ("XTR", 25, "plan:7")
    assert paid.telegram_payment_charge_id == outcome["telegram_payment_charge_id"]
    assert paid.is_recurring is None and paid.subscription_expiration_date is None


def test_a_declined_pre_checkout_shows_the_error_and_charges_nothing(make_bot, control):
    bot, bot_id = make_bot()
    slug = slug_of(stars_link(bot))
    thread = answering(bot, ok=False, error_message="The price changed")
    outcome = pay(control, slug).json()
    thread.join(10)
    assert outcome == {"status": "declined", "error_message": "The price changed",
                       "pre_checkout_query_id": outcome["pre_checkout_query_id"],
                       "delivered": True}
    assert payments_in(bot) == []
    assert bot.get_star_transactions().transactions == []


def test_an_unanswered_query_times_out_and_a_late_answer_is_refused(make_bot, control):
    bot, bot_id = make_bot()
    slug = slug_of(stars_link(bot))
    outcome = pay(control, slug, timeout=0.5).json()
    assert outcome["status"] == "timeout"
    [update] = bot.get_updates(long_polling_timeout=1)
    assert error_of(lambda: bot.answer_pre_checkout_query(update.pre_checkout_query.id, True)) == (
        400, "Bad Request: query is too old and response timeout expired or query ID is invalid")


def test_pay_without_waiting_completes_when_the_bot_answers(make_bot, control):
    bot, bot_id = make_bot()
    slug = slug_of(stars_link(bot))
    assert pay(control, slug, wait=False).json()["status"] == "pending"
    [update] = bot.get_updates(long_polling_timeout=1)
    query = update.pre_checkout_query
    assert (query.from_user.id, query.currency, query.total_amount, query.invoice_payload) == (
        USER, "XTR", 50, "plan:7")
    assert error_of(lambda: bot.answer_pre_checkout_query(query.id, False)) == (
        400, "Bad Request: error_message is empty")
    bot.answer_pre_checkout_query(query.id, True)
    [payment] = control.get("/sandbox/payments", bot_id=bot_id).json()["payments"]
    assert payment["status"] == "paid" and payment["refunded"] is False


def test_a_subscription_renews_then_cancelled_is_not_renewed(make_bot, control):
    bot, bot_id = make_bot()
    slug = slug_of(stars_link(bot, subscription_period=MONTH))
    pay(control, slug, wait=False)
    [update] = bot.get_updates(long_polling_timeout=1)
    bot.answer_pre_checkout_query(update.pre_checkout_query.id, True)
    [first] = payments_in(bot)
    assert (first.is_recurring, first.is_first_recurring) == (True, True)
    charge = first.telegram_payment_charge_id
    renewed = control.post(f"/sandbox/star-subscriptions/{charge}/renew", {}).json()
    second = payments_in(bot)[-1]
    assert second.is_recurring is True and not second.is_first_recurring
    assert second.telegram_payment_charge_id == renewed["telegram_payment_charge_id"] != charge
    assert second.subscription_expiration_date == first.subscription_expiration_date + MONTH
    control.post(f"/sandbox/star-subscriptions/{charge}/cancel", {})
    refused = control.post(f"/sandbox/star-subscriptions/{charge}/renew", {})
    assert (refused.status_code, refused.json()["description"]) == (409, "SUBSCRIPTION_CANCELED")


def test_the_bot_can_cancel_and_re_enable_a_subscription(make_bot, control):
    bot, bot_id = make_bot()
    slug = slug_of(stars_link(bot, subscription_period=MONTH))
    pay(control, slug, wait=False)
    [update] = bot.get_updates(long_polling_timeout=1)
    bot.answer_pre_checkout_query(update.pre_checkout_query.id, True)
    charge = payments_in(bot)[0].telegram_payment_charge_id
    assert bot.edit_user_star_subscription(USER, charge, True) is True
    assert control.post(f"/sandbox/star-subscriptions/{charge}/renew", {}).status_code == 409
    bot.edit_user_star_subscription(USER, charge, False)
    assert control.post(f"/sandbox/star-subscriptions/{charge}/renew", {}).status_code == 200
    assert error_of(lambda: bot.edit_user_star_subscription(USER, "stxnope", True)) == (
        400, "Bad Request: CHARGE_NOT_FOUND")


def test_refunds_once_and_only_known_charges(make_bot, control):
    bot, bot_id = make_bot()
    slug = slug_of(stars_link(bot))
    pay(control, slug, wait=False)
    [update] = bot.get_updates(long_polling_timeout=1)
    bot.answer_pre_checkout_query(update.pre_checkout_query.id, True)
    charge = payments_in(bot)[0].telegram_payment_charge_id
    assert error_of(lambda: bot.refund_star_payment(USER + 1, charge)) == (
        400, "Bad Request: CHARGE_NOT_FOUND")
    assert bot.refund_star_payment(USER, charge) is True
    assert error_of(lambda: bot.refund_star_payment(USER, charge)) == (
        400, "Bad Request: CHARGE_ALREADY_REFUNDED")
    transactions = bot.get_star_transactions().transactions
    assert [(t.id, t.amount, t.source is not None, t.receiver is not None)
            for t in transactions] == [(charge, 50, True, False), (charge, 50, False, True)]
    assert transactions[0].source.user.id == USER
    refunded = [e for e in control.messages(bot_id, USER) if e.get("refunded_payment")]
    assert refunded[0]["refunded_payment"]["telegram_payment_charge_id"] == charge


@pytest.mark.parametrize(("currency", "prices", "extra", "description"), [
    ("USD", [("VIP", 50)], {}, "Bad Request: PAYMENT_PROVIDER_INVALID"),
    ("XTR", [("VIP", 50), ("Tax", 5)], {}, "Bad Request: STARS_INVOICE_INVALID"),
    ("XTR", [("VIP", 0)], {}, "Bad Request: STARS_INVOICE_INVALID"),
    ("XTR", [("VIP", 50)], {"subscription_period": 86_400},
     "Bad Request: SUBSCRIPTION_PERIOD_INVALID"),
])
def test_invoices_telegram_refuses(make_bot, control, currency, prices, extra, description):
    bot, bot_id = make_bot()
    labeled = [types.LabeledPrice(label, amount) for label, amount in prices]
    assert error_of(lambda: bot.create_invoice_link("VIP", "a month", "plan:7", "", currency,
                                                    labeled, **extra)) == (400, description)


def test_pay_controls_refuse_unknown_invoices_and_subscriptions(control):
    assert control.post("/sandbox/invoices/nope/pay", {"user_id": USER}).status_code == 404
    assert control.post("/sandbox/star-subscriptions/stxnope/renew", {}).status_code == 404


def test_a_successful_payment_can_be_delivered_twice(make_bot, control):
    bot, bot_id = make_bot()
    slug = slug_of(stars_link(bot))
    pay(control, slug, wait=False)
    [update] = bot.get_updates(long_polling_timeout=1)
    bot.answer_pre_checkout_query(update.pre_checkout_query.id, True)
    bot.get_updates(offset=update.update_id + 1, long_polling_timeout=1)
    message = control.get(f"/bot{bot.token}/getUpdates").json()["result"][-1]["message"]
    again = control.post("/sandbox/updates", {"bot_id": bot_id, "raw": {"message": message}})
    assert again.json()["delivered"] is True
    charges = [p.telegram_payment_charge_id for p in payments_in(bot)]
    assert len(charges) == 2 and charges[0] == charges[1]
