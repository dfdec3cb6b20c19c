"""Outbox handlers for Telegram Stars (app.services.stars): the invoice, and the refund."""
from __future__ import annotations

from telebot import types

from app.extensions import db
from app.models import Bot, Member, OutboxMessage, StarPayment, StarPaymentStatus
from app.services import notify, outbox
from app.services.stars import CURRENCY, INVOICE_KIND, REFUND_KIND, SUBSCRIPTION_PERIOD
from app.worker.delivery import remember
from bots import outbound
from bots.chat_outbound import api_call
from bots.context import language_of
from bots.i18n import t
from bots.keyboards import button, keyboard


@outbox.handler(INVOICE_KIND)
def deliver_invoice(message: OutboxMessage) -> None:
    """A one-time plan: sendInvoice. A 30-day plan: a Stars subscription link (createInvoiceLink) in a message."""
    if (message.result or {}).get("message_id"):
        return
    payload = message.payload
    bot = db.session.get(Bot, payload["bot_id"])
    if bot is None or not bot.is_active:
        raise outbox.Permanent("the bot is gone or inactive")
    tb = outbound.telebot_for(bot)
    prices = [types.LabeledPrice(payload["title"], payload["stars"])]
    if not payload["subscription"]:
        outbound.pace(tb, payload["chat_id"])  # a send: within Telegram's limits
        sent = api_call(tb, "send_invoice", payload["chat_id"], payload["title"], payload["description"],
                     payload["payload"], None, CURRENCY, prices)
        remember(message, message_id=sent.message_id)
        return
    link = (message.result or {}).get("link") or api_call(
        tb, "create_invoice_link", payload["title"], payload["description"], payload["payload"], None, CURRENCY,
        prices, subscription_period=SUBSCRIPTION_PERIOD)
    remember(message, link=link)
    member = db.session.query(Member).filter_by(tenant_id=bot.tenant_id, telegram_id=payload["chat_id"]).one_or_none()
    lang = language_of(member, bot.tenant) if member else "fa"
    text = t(lang, "stars.subscription_offer", plan=payload["title"], stars=payload["stars"])
    outbound.pace(tb, payload["chat_id"])
    sent = api_call(tb, "send_message", payload["chat_id"], text,
                 reply_markup=keyboard([button(t(lang, "stars.subscribe", stars=payload["stars"]), url=link)]))
    remember(message, message_id=sent.message_id)


@outbox.handler(REFUND_KIND)
def deliver_refund(message: OutboxMessage) -> None:
    """refundStarPayment; an already refunded charge counts as done. The member is told."""
    star_payment = db.session.get(StarPayment, message.payload["star_payment_id"])
    if star_payment is None or star_payment.status == StarPaymentStatus.REFUNDED.value:
        return
    bot = db.session.get(Bot, star_payment.bot_id) if star_payment.bot_id else None
    if bot is None or not bot.is_active:
        raise outbox.Permanent("the bot that took the payment is gone or inactive")
    try:
        api_call(outbound.telebot_for(bot), "refund_star_payment", message.payload["user_id"],
              star_payment.telegram_payment_charge_id)
    except outbox.Permanent as refused:
        if "CHARGE_ALREADY_REFUNDED" not in refused.reason:
            raise
    star_payment.status = StarPaymentStatus.REFUNDED.value
    notify.notify_member(star_payment.member, "stars.refunded", once_key=f"stars-refunded:{star_payment.id}",
                         plan=star_payment.plan.name, stars=star_payment.amount)
