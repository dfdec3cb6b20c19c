"""The metered "use service" action and the leaderboard (support: bots/handlers/tickets.py)."""
from __future__ import annotations

from app.services import leaderboard as boards
from app.services import quota
from app.services.quota import QuotaExhausted
from app.services.subscriptions import active_subscription as current_subscription
from bots import formatting as fmt
from bots.handlers.common import edit, feature_off, on_callback
from bots.keyboards import button, home_keyboard, home_row, keyboard

TOP_N = 10


@on_callback
def use_service(ctx, call):
    """Consume one request of today's quota, or say when the quota resets."""
    if feature_off(ctx, "daily_quota"):
        return ctx.t("feature.off")
    subscription = current_subscription(ctx.member)
    try:
        use = quota.consume_request(ctx.session, ctx.member, ctx.tenant, subscription)
    except QuotaExhausted as exc:
        ctx.say("quota.exhausted", limit=fmt.number(ctx.lang, exc.params["limit"]),
                reset=fmt.date_time(ctx.lang, exc.params["resets_at"], ctx.tenant.timezone))
        return ctx.t("quota.exhausted_short")
    ctx.say("quota.used", used=fmt.number(ctx.lang, use.used), limit=fmt.number(ctx.lang, use.limit),
            markup=keyboard([button(ctx.t("menu.use_service"), "m:use")], home_row(ctx)))
    return None


def leaderboard_text(ctx) -> str:
    lines = [ctx.t("leaderboard.title")]
    for standing in boards.top(ctx.tenant, limit=TOP_N):
        lines.append(ctx.t("leaderboard.row", rank=fmt.digits(ctx.lang, standing.rank),
                           name=standing.display_name[:40], xp=fmt.number(ctx.lang, standing.xp)))
    lines.append(ctx.t("leaderboard.you", rank=fmt.number(ctx.lang, boards.rank_of(ctx.member)),
                       xp=fmt.number(ctx.lang, ctx.member.total_xp)))
    return "\n".join(lines)


@on_callback
def leaderboard(ctx, call):
    """The tenant's top members by XP and the member's own rank."""
    if feature_off(ctx, "leaderboard"):
        return ctx.t("feature.off")
    edit(ctx, call.message, leaderboard_text(ctx), home_keyboard(ctx))
    return None


def register(bot) -> None:
    bot.register_callback_query_handler(use_service, func=lambda c: c.data == "m:use", pass_bot=True)
    bot.register_callback_query_handler(leaderboard, func=lambda c: c.data == "m:top", pass_bot=True)
