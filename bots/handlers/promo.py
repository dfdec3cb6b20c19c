"""Promo codes: typed after the menu button, or from a `promo_<code>` deep link."""
from __future__ import annotations

from app.models import PromocodeKind
from app.services import promocodes
from app.services.errors import DomainError
from app.services.subscriptions import active_subscription
from bots import formatting as fmt
from bots.handlers.common import edit, error_text, feature_off, on_callback
from bots.keyboards import home_keyboard

STATE = "promo_code"
MAX_CODE_LENGTH = 32


@on_callback
def ask_code(ctx, call):
    """Ask for a code; the next text message answers it."""
    if feature_off(ctx, "promocodes"):
        return ctx.t("feature.off")
    ctx.set_state(STATE)
    edit(ctx, call.message, ctx.t("promo.ask"), home_keyboard(ctx))
    return None


def on_text(ctx, message) -> None:
    ctx.set_state(None)
    redeem_code(ctx, message.text or "")


def redeem_code(ctx, code: str) -> None:
    """Redeem `code` for the member, or say why not."""
    code = code.strip()
    if feature_off(ctx, "promocodes"):
        ctx.say("feature.off")
        return
    if not code or len(code) > MAX_CODE_LENGTH:
        ctx.say("promo.invalid")
        return
    try:
        redemption = promocodes.redeem(ctx.member, code, bot=ctx.bot)
    except DomainError as exc:
        ctx.send(error_text(ctx, exc), home_keyboard(ctx))
        return
    ctx.send(redeemed_text(ctx, redemption.promocode), home_keyboard(ctx))


def redeemed_text(ctx, promocode) -> str:
    """What the code gave, said plainly: the amount, the days and plan, the discount or the XP."""
    kind, value, code = promocode.kind, promocode.value, promocode.code
    if kind == PromocodeKind.BALANCE.value:
        return ctx.t("promo.redeemed_balance", code=code, amount=fmt.money(ctx.lang, value))
    if kind == PromocodeKind.PLAN_DAYS.value:
        subscription = active_subscription(ctx.member)
        plan = subscription.plan.name if subscription else (promocode.plan.name if promocode.plan else "")
        end = fmt.date(ctx.lang, subscription.ends_at, ctx.tenant.timezone) if subscription else "—"
        return ctx.t("promo.redeemed_plan_days", code=code, days=fmt.digits(ctx.lang, value), plan=plan, end=end)
    if kind == PromocodeKind.DISCOUNT_PERCENT.value:
        return ctx.t("promo.redeemed_discount", code=code, percent=fmt.digits(ctx.lang, value))
    if kind == PromocodeKind.XP.value:
        return ctx.t("promo.redeemed_xp", code=code, xp=fmt.digits(ctx.lang, value))
    return ctx.t("promo.redeemed", code=code)


def register(bot) -> None:
    bot.register_callback_query_handler(ask_code, func=lambda c: c.data == "m:promo", pass_bot=True)
