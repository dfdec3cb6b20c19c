"""Plans: the list, one plan, paying from the balance (or topping up the difference), or by card."""
from __future__ import annotations

from app.extensions import db
from app.models import Plan
from app.services import plans as plan_service
from app.services import promocodes
from app.services.bots import feature_enabled
from app.services.errors import DomainError, InsufficientFunds
from app.services.subscriptions import active_subscription
from bots import formatting as fmt
from bots.congratulations import with_rewards
from bots.handlers import online_payments, payments
from bots.handlers.common import Alert, edit, error_text, int_arg, on_callback
from bots.keyboards import button, home_keyboard, home_row, keyboard

MAX_LISTED = 20


def plan_on_sale(ctx, plan_id: int | None) -> Plan | None:
    """The tenant's plan if it is still for sale (active, not archived), else None."""
    plan = db.session.get(Plan, plan_id) if plan_id else None
    if plan is None or plan.tenant_id != ctx.tenant.id or not plan.is_active or plan.is_archived:
        return None
    return plan


def traffic_text(ctx, plan: Plan) -> str:
    if plan.traffic_gb is None:
        return ctx.t("traffic.unlimited")
    return ctx.t("traffic.gb", gb=fmt.number(ctx.lang, plan.traffic_gb))


def price_text(ctx, plan: Plan, percent: int) -> str:
    """The plan's price, with the member's pending discount applied and said when there is one."""
    if not percent:
        return fmt.money(ctx.lang, plan.price)
    return ctx.t("plans.discounted", price=fmt.money(ctx.lang, promocodes.discounted_price(plan.price, percent)),
                 percent=fmt.digits(ctx.lang, percent), old=fmt.money(ctx.lang, plan.price))


@on_callback
def list_plans(ctx, call):
    """Every plan on sale, one button each."""
    on_sale = plan_service.active_plans(ctx.tenant)[:MAX_LISTED]
    if not on_sale:
        edit(ctx, call.message, ctx.t("plans.none"), home_keyboard(ctx))
        return None
    percent = promocodes.pending_discount(ctx.member)
    lines = [ctx.t("plans.title")] + [
        ctx.t("plans.item", name=p.name, days=fmt.digits(ctx.lang, p.period_days), traffic=traffic_text(ctx, p),
              price=price_text(ctx, p, percent)) for p in on_sale]
    rows = [[button(ctx.t("plans.button", name=p.name, price=fmt.money(
        ctx.lang, promocodes.discounted_price(p.price, percent))), f"pl:{p.id}")] for p in on_sale]
    edit(ctx, call.message, "\n".join(lines), keyboard(*rows, home_row(ctx)))
    return None


def plan_keyboard(ctx, plan: Plan):
    card = button(ctx.t("plans.pay_card"), f"pc:{plan.id}") if feature_enabled(ctx.bot, "card_to_card") else None
    zarinpal = button(ctx.t("zarinpal.pay_online"), f"zp:{plan.id}") if online_payments.available(ctx) else None
    stars = button(ctx.t("stars.pay", stars=fmt.digits(ctx.lang, plan.stars_price)), f"ps:{plan.id}") \
        if plan.stars_price else None
    return keyboard([button(ctx.t("plans.pay_balance"), f"pb:{plan.id}")], [card], [zarinpal], [stars],
                    [button(ctx.t("menu.back"), "m:plans")])


@on_callback
def show_plan(ctx, call):
    plan = plan_on_sale(ctx, int_arg(call))
    if plan is None:
        return ctx.t("stale.plan")
    text = ctx.t("plans.detail", name=plan.name, description=(plan.description or "")[:1500],
                 days=fmt.digits(ctx.lang, plan.period_days), traffic=traffic_text(ctx, plan),
                 price=price_text(ctx, plan, promocodes.pending_discount(ctx.member)),
                 balance=fmt.money(ctx.lang, ctx.member.balance))
    edit(ctx, call.message, text, plan_keyboard(ctx, plan))
    return None


@on_callback
def pay_from_balance(ctx, call):
    """Buy the plan with the balance; one purchase per plan message, however often it is pressed."""
    plan = plan_on_sale(ctx, int_arg(call))
    if plan is None:
        return Alert(ctx.t("stale.plan"))
    key = f"tgbuy:{ctx.bot.id}:{call.message.chat.id}:{call.message.message_id}"
    try:
        bought = plan_service.purchase_from_balance(ctx.member, plan, key=key, actor=f"telegram:{call.from_user.id}",
                                                    bot=ctx.bot)
    except InsufficientFunds:
        edit(ctx, call.message, *_need_topup(ctx, plan))
        return None
    except DomainError as exc:
        return Alert(error_text(ctx, exc))
    subscription = active_subscription(ctx.member)
    end = subscription.ends_at if subscription else None
    bought_text = ctx.t("plans.bought", plan=plan.name, end=fmt.date(ctx.lang, end, ctx.tenant.timezone) if end else "-",
                        balance=fmt.money(ctx.lang, ctx.member.balance))
    text = with_rewards(bought_text, ctx.lang, getattr(bought, "rewards", None))
    edit(ctx, call.message, text, home_keyboard(ctx))
    return None


def _need_topup(ctx, plan: Plan):
    """The "not enough balance" text and a keyboard offering to top up the difference or pay by card."""
    price = promocodes.price_for(ctx.member, plan)
    missing = price - ctx.member.balance
    text = ctx.t("plans.need_topup", balance=fmt.money(ctx.lang, ctx.member.balance),
                 price=fmt.money(ctx.lang, price), missing=fmt.money(ctx.lang, missing))
    if not feature_enabled(ctx.bot, "card_to_card"):
        return text, keyboard([button(ctx.t("menu.back"), f"pl:{plan.id}")])
    return text, keyboard(
        [button(ctx.t("plans.topup_missing", amount=fmt.money(ctx.lang, missing)), f"tu:{missing}")],
        [button(ctx.t("plans.pay_card"), f"pc:{plan.id}")], [button(ctx.t("menu.back"), f"pl:{plan.id}")])


@on_callback
def pay_by_card(ctx, call):
    """Open a card-to-card invoice for the plan's price."""
    plan = plan_on_sale(ctx, int_arg(call))
    if plan is None:
        return ctx.t("stale.plan")
    return payments.open_invoice_for(ctx, plan=plan)


def register(bot) -> None:
    starts = lambda prefix: (lambda c: (c.data or "").startswith(prefix))  # noqa: E731
    bot.register_callback_query_handler(list_plans, func=lambda c: c.data == "m:plans", pass_bot=True)
    bot.register_callback_query_handler(show_plan, func=starts("pl:"), pass_bot=True)
    bot.register_callback_query_handler(pay_from_balance, func=starts("pb:"), pass_bot=True)
    bot.register_callback_query_handler(pay_by_card, func=starts("pc:"), pass_bot=True)
