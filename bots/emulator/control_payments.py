"""Control endpoints for Telegram Stars: list invoices, pay one as a user (pre_checkout_query,
then successful_payment when the bot agrees), list payments, renew or cancel subscriptions."""

import time

from . import stars
from .botapi import json_response
from .control import int_value, json_body
from .errors import ControlError

MAX_WAIT_SECONDS = 60


def invoices(sandbox, request):
    """GET /sandbox/invoices?bot_id=."""
    bot_id = int_value(request.args.get("bot_id"), "bot_id")
    names = ("slug", "chat_id", "message_id", "link", "title", "description", "payload",
             "currency", "total_amount", "subscription_period")
    with sandbox.state.lock:
        found = [{name: invoice[name] for name in names}
                 for invoice in sandbox.state.invoices.values() if invoice["bot_id"] == bot_id]
    return json_response({"invoices": found})


def pay(sandbox, request, slug):
    """POST /sandbox/invoices/<slug>/pay {"user_id", "first_name"?, "wait"?, "timeout"?}."""
    body = json_body(request)
    user = {"id": int_value(body.get("user_id"), "user_id"), "is_bot": False,
            "first_name": str(body.get("first_name") or "User")}
    timeout = _timeout(body)
    state = sandbox.state
    with state.lock:
        invoice = state.invoices.get(slug)
        if invoice is None:
            raise ControlError(404, f"unknown invoice {slug}")
        payment = stars.open_query(state, invoice, state.find_bot(invoice["bot_id"]), user, timeout)
        if body.get("wait", True) is not False:
            _wait(state, payment)
        return json_response({**_outcome(payment), "delivered": payment["delivered"]})


def _timeout(body):
    timeout = body.get("timeout", stars.PRE_CHECKOUT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
            or not 0 < timeout <= MAX_WAIT_SECONDS:
        raise ControlError(400, f'"timeout" must be a number of seconds, at most {MAX_WAIT_SECONDS}')
    return timeout


def _wait(state, payment):
    """Wait (releasing the lock) until the bot answers the query or its time is over."""
    while payment["status"] == "pending" and not state.closed:
        remaining = payment["deadline"] - time.monotonic()
        if remaining <= 0:
            break
        state.payments_changed.wait(remaining)
    stars.expire_if_late(payment)


def _outcome(payment):
    outcome = {"status": payment["status"], "pre_checkout_query_id": payment["pre_checkout_query_id"]}
    if payment["status"] == "paid":
        outcome.update(telegram_payment_charge_id=payment["telegram_payment_charge_id"],
                       message_id=payment["message_id"])
    elif payment["status"] == "declined":
        outcome["error_message"] = payment["error_message"]
    return outcome


def payments(sandbox, request):
    """GET /sandbox/payments?bot_id=."""
    bot_id = int_value(request.args.get("bot_id"), "bot_id")
    with sandbox.state.lock:
        state = sandbox.state
        found = []
        for payment in state.payments.values():
            if payment["bot_id"] == bot_id:
                stars.expire_if_late(payment)
                found.append(stars.payment_view(state, payment))
    return json_response({"payments": found})


def subscriptions(sandbox, request):
    """GET /sandbox/star-subscriptions?bot_id=."""
    bot_id = int_value(request.args.get("bot_id"), "bot_id")
    with sandbox.state.lock:
        found = [{key: value for key, value in subscription.items() if key != "bot_id"}
                 for subscription in sandbox.state.subscriptions.values()
                 if subscription["bot_id"] == bot_id]
    return json_response({"subscriptions": found})


def renew_subscription(sandbox, request, charge_id):
    """POST /sandbox/star-subscriptions/<charge_id>/renew: the next period is paid."""
    with sandbox.state.lock:
        state = sandbox.state
        subscription = _subscription(state, charge_id)
        if subscription["canceled"]:
            raise ControlError(409, "SUBSCRIPTION_CANCELED", canceled_by=subscription["canceled_by"])
        return json_response(stars.renew(state, state.find_bot(subscription["bot_id"]), subscription))


def cancel_subscription(sandbox, request, charge_id):
    """POST /sandbox/star-subscriptions/<charge_id>/cancel: the user cancels (no update is sent)."""
    with sandbox.state.lock:
        subscription = _subscription(sandbox.state, charge_id)
        if not subscription["canceled"]:
            subscription.update(canceled=True, canceled_by="user")
        return json_response({"ok": True, "expires_at": subscription["expires_at"]})


def _subscription(state, charge_id):
    charge = state.charges.get(charge_id)
    subscription = state.subscriptions.get(charge.get("subscription_id")) if charge else None
    if subscription is None:
        raise ControlError(404, f"no Stars subscription with charge {charge_id}")
    return subscription
