"""Paying a plan in Telegram Stars: the invoice, the pre-checkout answer, the successful payment."""
from __future__ import annotations

from app.extensions import db
from app.models import StarPaymentStatus, Subscription
from app.services import stars
from app.services.errors import DomainError
from bots import formatting as fmt
from bots import replies
from bots.context import current_bot, load_context
from bots.handlers.common import Alert, error_text, int_arg, on_callback
from bots.i18n import t


@on_callback
def pay_with_stars(ctx, call):
    """ps:<plan_id>: send the plan's Stars invoice (or subscription link), through the outbox."""
    from bots.handlers.plans import plan_on_sale

    plan = plan_on_sale(ctx, int_arg(call))
    if plan is None or not plan.stars_price:
        return Alert(ctx.t("stale.plan"))
    try:
        stars.offer_invoice(ctx.member, plan, ctx.bot, key=f"{ctx.bot.id}:{call.id}")
    except DomainError as exc:
        return Alert(error_text(ctx, exc))
    return ctx.t("stars.invoice_sent")


def pre_checkout(query, bot) -> None:
    """Accept only a payment for a plan still on sale at the price invoiced."""
    refusal = stars.pre_checkout_refusal(current_bot(bot), query.from_user.id, query.invoice_payload,
                                         query.currency, query.total_amount)
    if refusal is None:
        replies.call(bot, "answer_pre_checkout_query", pre_checkout_query_id=query.id, ok=True)
        return
    lang = query.from_user.language_code
    replies.call(bot, "answer_pre_checkout_query", pre_checkout_query_id=query.id, ok=False,
                 error_message=t(lang, refusal))


def successful_payment(message, bot) -> None:
    """The payment went through: the sale (once per charge), and the member is told."""
    ctx = load_context(bot, message.from_user, message.chat.id)
    payment = message.successful_payment
    star_payment = stars.record_payment(ctx.bot, message.from_user.id, {
        "invoice_payload": payment.invoice_payload, "currency": payment.currency,
        "total_amount": payment.total_amount, "telegram_payment_charge_id": payment.telegram_payment_charge_id,
        "is_recurring": getattr(payment, "is_recurring", None),
        "is_first_recurring": getattr(payment, "is_first_recurring", None)})
    if star_payment.status != StarPaymentStatus.PAID.value:
        ctx.say("stars.unavailable")  # not sold: the refund is on its way
        return
    subscription = db.session.get(Subscription, star_payment.subscription_id) if star_payment.subscription_id else None
    end = fmt.date(ctx.lang, subscription.ends_at, ctx.tenant.timezone) if subscription else "-"
    ctx.say("stars.renewed" if star_payment.is_renewal else "stars.paid", plan=star_payment.plan.name, end=end,
            stars=fmt.digits(ctx.lang, star_payment.amount))


def register(bot) -> None:
    bot.register_callback_query_handler(pay_with_stars, func=lambda c: (c.data or "").startswith("ps:"),
                                        pass_bot=True)
    bot.register_pre_checkout_query_handler(pre_checkout, func=lambda q: True, pass_bot=True)
    bot.register_message_handler(successful_payment, content_types=["successful_payment"], pass_bot=True)
