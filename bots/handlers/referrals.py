"""Referral deep links (`ref_<code>`) and the invite-friends screen."""
from __future__ import annotations

from app.services import referrals
from app.services.errors import DomainError
from bots.handlers.common import edit, feature_off, on_callback
from bots.keyboards import home_keyboard


def apply_referral(ctx, code: str) -> None:
    """Record who invited this member (the service refuses repeats, oneself and loops, silently here)."""
    if feature_off(ctx, "referrals"):
        return
    try:
        referrer = referrals.set_referrer(ctx.member, code)
    except DomainError:
        return
    ctx.say("referral.joined", name=referrer.display_name)


@on_callback
def invite(ctx, call):
    """The member's referral link and how many people joined through it."""
    if feature_off(ctx, "referrals"):
        return ctx.t("feature.off")
    link = referrals.referral_link(ctx.member, ctx.bot.username)
    edit(ctx, call.message, ctx.t("referral.invite", link=link, count=referrals.stats(ctx.member).invited),
         home_keyboard(ctx))


def register(bot) -> None:
    bot.register_callback_query_handler(invite, func=lambda c: c.data == "m:ref", pass_bot=True)
