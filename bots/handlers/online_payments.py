"""Zarinpal from the bot: a plan or a top-up paid online; the member gets a URL button to the gateway.

The gateway's authority is asked for before anything of the member is locked (see
app.services.payments.online); the callback page and the reconciliation job do the rest.
"""
from __future__ import annotations

from app.models import OnlinePayment
from app.services.bots import feature_enabled
from app.services.errors import DomainError
from app.services.payments import online, zarinpal
from bots import formatting as fmt
from bots.handlers.common import error_text, int_arg, on_callback
from bots.keyboards import button, home_row, keyboard


def available(ctx) -> bool:
    return online.available_for(ctx.bot)


def method_keyboard(ctx, amount: int):
    """Card-to-card or online, for a top-up of `amount` Toman (only the methods this bot offers)."""
    card = button(ctx.t("plans.pay_card"), f"tc:{amount}") if feature_enabled(ctx.bot, "card_to_card") else None
    return keyboard([card], [button(ctx.t("zarinpal.pay_online"), f"zt:{amount}")], home_row(ctx))


@on_callback
def pay_plan_online(ctx, call):
    """zp:<plan_id>: pay a plan's price through Zarinpal."""
    from bots.handlers.plans import plan_on_sale

    plan = plan_on_sale(ctx, int_arg(call))
    if plan is None:
        return ctx.t("stale.plan")
    return start(ctx, plan=plan)


@on_callback
def topup_online(ctx, call):
    """zt:<amount>: top up the balance through Zarinpal."""
    amount = int_arg(call)
    if not amount:
        return ctx.t("stale.button")
    return start(ctx, amount=amount)


def start(ctx, **what) -> str | None:
    if not available(ctx):
        return ctx.t("feature.off")
    try:
        payment = online.start_member_payment(ctx.member, ctx.bot, **what)
    except DomainError as exc:
        return error_text(ctx, exc)
    ctx.set_state(None)
    ctx.send(invoice_text(ctx, payment), keyboard(
        [button(ctx.t("zarinpal.go_to_gateway"), url=zarinpal.start_pay_url(payment.authority))], home_row(ctx)))
    return None


def invoice_text(ctx, payment: OnlinePayment) -> str:
    text = ctx.t("zarinpal.invoice", code=payment.order_code, amount=fmt.money(ctx.lang, payment.amount))
    if payment.plan is not None:
        text += "\n" + ctx.t("payments.for_plan", plan=payment.plan.name)
    return text


def register(bot) -> None:
    starts = lambda prefix: (lambda c: (c.data or "").startswith(prefix))  # noqa: E731
    bot.register_callback_query_handler(pay_plan_online, func=starts("zp:"), pass_bot=True)
    bot.register_callback_query_handler(topup_online, func=starts("zt:"), pass_bot=True)
