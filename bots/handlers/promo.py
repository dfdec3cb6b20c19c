"""Promo codes: typed after the menu button, or from a `promo_<code>` deep link."""
from __future__ import annotations

from app.services import promocodes
from app.services.errors import DomainError
from bots.handlers.common import edit, error_text, feature_off, on_callback
from bots.keyboards import home_row, keyboard

STATE = "promo_code"
MAX_CODE_LENGTH = 32


@on_callback
def ask_code(ctx, call):
    """Ask for a code; the next text message answers it."""
    if feature_off(ctx, "promocodes"):
        return ctx.t("feature.off")
    ctx.set_state(STATE)
    edit(ctx, call.message, ctx.t("promo.ask"), keyboard(home_row(ctx)))
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
        promocodes.redeem(ctx.member, code, bot=ctx.bot)
    except DomainError as exc:
        ctx.send(error_text(ctx, exc), keyboard(home_row(ctx)))
        return
    ctx.say("promo.redeemed", code=code.upper(), markup=keyboard(home_row(ctx)))


def register(bot) -> None:
    bot.register_callback_query_handler(ask_code, func=lambda c: c.data == "m:promo", pass_bot=True)
