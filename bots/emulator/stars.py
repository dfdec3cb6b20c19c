"""Telegram Stars as the sandbox keeps them: invoices, pre-checkout queries, charges and
subscriptions, and the messages a payment, a renewal or a refund puts in the user's chat.

The records are plain dicts in SandboxState (invoices, payments, charges, subscriptions)."""

import copy
import secrets
import time

SUBSCRIPTION_PERIOD = 2_592_000  # 30 days, the only period Telegram accepts
#: Telegram gives a bot 10 seconds to answer a pre-checkout query.
PRE_CHECKOUT_TIMEOUT = 10


def new_slug():
    """Return the id of a new invoice (the part after https://t.me/$)."""
    return secrets.token_urlsafe(12)


def new_charge_id():
    """Return a new telegram_payment_charge_id."""
    return "stxsb" + secrets.token_hex(20)


def payment_view(state, payment):
    """Return the control-side view of a payment (a pre-checkout query and what came of it)."""
    names = ("pre_checkout_query_id", "slug", "user_id", "status", "error_message",
             "telegram_payment_charge_id", "total_amount", "subscription_charge_id", "message_id")
    view = {name: payment.get(name) for name in names}
    charge = state.charges.get(payment["telegram_payment_charge_id"])
    view["refunded"] = bool(charge and charge["refunded_at"])
    return view


def open_query(state, invoice, bot, user, timeout):
    """Create a pending payment and offer its pre_checkout_query to the bot."""
    query_id = secrets.token_hex(8)
    payment = {"pre_checkout_query_id": query_id, "slug": invoice["slug"], "user_id": user["id"],
               "user": user, "bot_id": bot.id, "status": "pending", "error_message": None,
               "telegram_payment_charge_id": None, "total_amount": invoice["total_amount"],
               "subscription_charge_id": None, "message_id": None,
               "deadline": time.monotonic() + timeout}
    state.payments[query_id] = payment
    query = {"id": query_id, "from": user, "currency": invoice["currency"],
             "total_amount": invoice["total_amount"], "invoice_payload": invoice["payload"]}
    payment["delivered"] = state.offer(bot, {"pre_checkout_query": query}) is not None
    if not payment["delivered"]:
        payment["status"] = "timeout"
    return payment


def expire_if_late(payment):
    """Mark a pending payment whose answer time is over as timed out."""
    if payment["status"] == "pending" and time.monotonic() > payment["deadline"]:
        payment["status"] = "timeout"


def complete(state, bot, payment):
    """The bot said ok: charge the user and tell the bot with a successful_payment message."""
    invoice = state.invoices[payment["slug"]]
    user = payment["user"]
    charge = _charge(state, bot, user, invoice)
    paid = _successful_payment(invoice, charge)
    if invoice.get("subscription_period"):
        expires = int(time.time()) + invoice["subscription_period"]
        state.subscriptions[charge["id"]] = {
            "charge_id": charge["id"], "bot_id": bot.id, "user_id": user["id"], "slug": invoice["slug"],
            "payload": invoice["payload"], "total_amount": invoice["total_amount"],
            "expires_at": expires, "canceled": False, "canceled_by": None, "charges": [charge["id"]]}
        charge["subscription_id"] = charge["id"]
        paid.update(subscription_expiration_date=expires, is_recurring=True, is_first_recurring=True)
        payment["subscription_charge_id"] = charge["id"]
    chat_id = invoice["chat_id"] or user["id"]
    payment.update(status="paid", telegram_payment_charge_id=charge["id"],
                   message_id=tell(state, bot, chat_id, user, {"successful_payment": paid}))


def renew(state, bot, subscription):
    """The next period of a Stars subscription is paid: a new charge and successful_payment."""
    invoice = state.invoices[subscription["slug"]]
    user = state.charges[subscription["charge_id"]]["user"]
    charge = _charge(state, bot, user, invoice)
    charge["subscription_id"] = subscription["charge_id"]
    subscription["charges"].append(charge["id"])
    subscription["expires_at"] += invoice["subscription_period"]
    paid = {**_successful_payment(invoice, charge), "is_recurring": True,
            "subscription_expiration_date": subscription["expires_at"]}
    message_id = tell(state, bot, user["id"], user, {"successful_payment": paid})
    return {"telegram_payment_charge_id": charge["id"], "message_id": message_id,
            "subscription_expiration_date": subscription["expires_at"]}


def refund(state, bot, charge):
    """Give the Stars back; a subscription charge cancels the subscription."""
    charge["refunded_at"] = int(time.time())
    subscription = state.subscriptions.get(charge.get("subscription_id"))
    if subscription and not subscription["canceled"]:
        subscription.update(canceled=True, canceled_by="refund")
    refunded = {"currency": "XTR", "total_amount": charge["amount"],
                "invoice_payload": charge["payload"], "telegram_payment_charge_id": charge["id"]}
    tell(state, bot, charge["user"]["id"], charge["user"], {"refunded_payment": refunded})


def tell(state, bot, chat_id, user, content):
    """Put a service message from the user in a chat and offer it to the bot; return its id."""
    record = state.chat(bot, chat_id, user).add(user, content, from_bot=False)
    state.offer(bot, {"message": copy.deepcopy(record.message)})
    return record.message_id


def _charge(state, bot, user, invoice):
    charge = {"id": new_charge_id(), "bot_id": bot.id, "user": user,
              "amount": invoice["total_amount"], "payload": invoice["payload"],
              "date": int(time.time()), "refunded_at": None, "subscription_id": None,
              "subscription_period": invoice.get("subscription_period")}
    state.charges[charge["id"]] = charge
    return charge


def _successful_payment(invoice, charge):
    return {"currency": invoice["currency"], "total_amount": charge["amount"],
            "invoice_payload": invoice["payload"], "telegram_payment_charge_id": charge["id"],
            "provider_payment_charge_id": ""}


def transactions(state, bot):
    """Return the bot's StarTransactions, oldest first: payments, then refunds by their date."""
    items = []
    for charge in state.charges.values():
        if charge["bot_id"] != bot.id:
            continue
        partner = {"type": "user", "transaction_type": "invoice_payment", "user": charge["user"],
                   "invoice_payload": charge["payload"]}
        if charge["subscription_period"]:
            partner["subscription_period"] = charge["subscription_period"]
        items.append({"id": charge["id"], "amount": charge["amount"], "date": charge["date"],
                      "source": partner})
        if charge["refunded_at"]:
            items.append({"id": charge["id"], "amount": charge["amount"],
                          "date": charge["refunded_at"], "receiver": dict(partner)})
    return sorted(items, key=lambda item: item["date"])
