"""Bot API payment methods, Telegram Stars only: sendInvoice, createInvoiceLink,
answerPreCheckoutQuery, refundStarPayment, editUserStarSubscription, getStarTransactions."""

from . import stars
from .errors import bad_request
from .methods_send import _send

MAX_TITLE, MAX_DESCRIPTION, MAX_PAYLOAD_BYTES = 32, 255, 128
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"


def send_invoice(call):
    """sendInvoice: an invoice message with a Pay button (unless reply_markup is given)."""
    invoice = _invoice(call, allow_subscription=False)
    if not call.has("reply_markup"):
        button = {"text": f"Pay ⭐️{invoice['total_amount']}", "pay": True}
        call.params["reply_markup"] = {"inline_keyboard": [[button]]}
    shown = {name: invoice[name] for name in ("title", "description", "currency", "total_amount")}
    message = _send(call, {"invoice": {**shown, "start_parameter": call.str("start_parameter", "")}})
    chat = call.state.known_chat(call.bot, message["chat"]["id"])
    chat.find(message["message_id"]).invoice_slug = invoice["slug"]
    invoice.update(chat_id=message["chat"]["id"], message_id=message["message_id"])
    return message


def create_invoice_link(call):
    """createInvoiceLink: https://t.me/$<slug>; may be a 30-day Stars subscription."""
    invoice = _invoice(call, allow_subscription=True)
    invoice["link"] = "https://t.me/$" + invoice["slug"]
    return invoice["link"]


def _invoice(call, allow_subscription):
    title, description = call.str("title", ""), call.str("description", "")
    payload = call.str("payload", "")
    if not 1 <= len(title) <= MAX_TITLE:
        raise bad_request("INVOICE_TITLE_EMPTY" if not title else "title is too long")
    if not 1 <= len(description) <= MAX_DESCRIPTION:
        raise bad_request("INVOICE_DESCRIPTION_EMPTY" if not description
                          else "description is too long")
    if not 1 <= len(payload.encode()) <= MAX_PAYLOAD_BYTES:
        raise bad_request("INVOICE_PAYLOAD_INVALID")
    if call.str("currency", "") != "XTR" or call.str("provider_token", ""):
        raise bad_request("PAYMENT_PROVIDER_INVALID")
    invoice = {"slug": stars.new_slug(), "bot_id": call.bot.id, "chat_id": None,
               "message_id": None, "link": None, "title": title, "description": description,
               "payload": payload, "currency": "XTR", "total_amount": _stars_amount(call),
               "subscription_period": _period(call) if allow_subscription else None}
    call.state.invoices[invoice["slug"]] = invoice
    return invoice


def _stars_amount(call):
    prices = call.params.get("prices")
    if isinstance(prices, str):
        raise bad_request("can't parse prices JSON object")
    if not isinstance(prices, list) or len(prices) != 1 or not isinstance(prices[0], dict):
        raise bad_request("STARS_INVOICE_INVALID")
    amount = prices[0].get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        raise bad_request("STARS_INVOICE_INVALID")
    if call.int("max_tip_amount", 0) or call.params.get("suggested_tip_amounts"):
        raise bad_request("STARS_INVOICE_INVALID")
    return amount


def _period(call):
    if not call.has("subscription_period"):
        return None
    if call.int("subscription_period") != stars.SUBSCRIPTION_PERIOD:
        raise bad_request("SUBSCRIPTION_PERIOD_INVALID")
    return stars.SUBSCRIPTION_PERIOD


def answer_pre_checkout_query(call):
    """answerPreCheckoutQuery: ok completes the payment; ok false needs an error_message."""
    payment = call.state.payments.get(call.str("pre_checkout_query_id", ""))
    if payment is not None:
        stars.expire_if_late(payment)
    if payment is None or payment["bot_id"] != call.bot.id or payment["status"] != "pending":
        raise bad_request(QUERY_INVALID)
    if call.bool("ok"):
        stars.complete(call.state, call.bot, payment)
    elif not call.has("error_message"):
        raise bad_request("error_message is empty")
    else:
        payment.update(status="declined", error_message=call.str("error_message"))
    call.state.payments_changed.notify_all()
    return True


def refund_star_payment(call):
    """refundStarPayment: once per charge, only the user who paid."""
    charge = _charge(call)
    if charge["refunded_at"]:
        raise bad_request("CHARGE_ALREADY_REFUNDED")
    stars.refund(call.state, call.bot, charge)
    return True


def edit_user_star_subscription(call):
    """editUserStarSubscription: cancel (is_canceled) or re-enable a subscription's renewal."""
    charge = _charge(call)
    subscription = call.state.subscriptions.get(charge.get("subscription_id"))
    if subscription is None:
        raise bad_request("CHARGE_NOT_FOUND")
    if call.bool("is_canceled"):
        subscription.update(canceled=True, canceled_by=subscription["canceled_by"] or "bot")
    elif subscription["canceled_by"] == "bot":
        subscription.update(canceled=False, canceled_by=None)
    return True


def _charge(call):
    user_id = call.int("user_id", missing="user_id is empty")
    charge = call.state.charges.get(call.str("telegram_payment_charge_id", ""))
    if charge is None or charge["bot_id"] != call.bot.id or charge["user"]["id"] != user_id:
        raise bad_request("CHARGE_NOT_FOUND")
    return charge


def get_star_transactions(call):
    """getStarTransactions: offset and limit (1-100) over the bot's transactions."""
    offset = max(call.int("offset", 0), 0)
    limit = min(max(call.int("limit", 100), 1), 100)
    return {"transactions": stars.transactions(call.state, call.bot)[offset:offset + limit]}
