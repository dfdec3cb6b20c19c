"""Profile and my subscriptions."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import MemberBadge, Subscription, SubscriptionStatus
from app.prepared import first_row, prepared
from app.services import badges, clock, quota, xp_counts
from app.services.bots import feature_enabled
from app.services.subscriptions import active_subscription as current_subscription
from bots import formatting as fmt
from bots.handlers.common import edit, on_callback, on_message
from bots.keyboards import button, home_keyboard, home_row, keyboard

MAX_LISTED = 10

#: What a profile needs besides the context, in one statement built once: the members ranking ahead
#: (leaderboard.rank_of's count), and whether the member has an active subscription or any badge, which are
#: then read (most members have neither, so their profile costs this one statement). A Postgres prepared statement
#: (app/prepared.py): its generic plan is the custom plans' index-only scans, without planning them per profile.
PROFILE_FACTS = prepared(sa.select(
    xp_counts.AHEAD.scalar_subquery().label("ahead"),
    sa.exists().where(
        Subscription.tenant_id == sa.bindparam("tenant_id"), Subscription.member_id == sa.bindparam("member_id"),
        Subscription.status == SubscriptionStatus.ACTIVE.value, Subscription.ends_at > sa.bindparam("now"),
    ).label("subscribed"),
    sa.exists().where(MemberBadge.tenant_id == sa.bindparam("tenant_id"),
                      MemberBadge.member_id == sa.bindparam("member_id")).label("badged")), "profile_facts")


def profile_text(ctx) -> str:
    """Who the member is and what they have, in one message."""
    member, tenant, lang = ctx.member, ctx.tenant, ctx.lang
    now = clock.now()
    db.session.flush()  # the update's own changes (a first visit's XP) count in the rank, as an autoflush did
    ahead, subscribed, badged = first_row(db.session.connection(), PROFILE_FACTS, {  # no ORM for three numbers
        **xp_counts.ahead_params(member.tenant_id, member.total_xp, member.id), "now": now})
    subscription = current_subscription(member, now) if subscribed else None
    lines = [
        ctx.t("profile.title"),
        ctx.t("profile.telegram_id", id=member.telegram_id),
        ctx.t("profile.registered", date=fmt.date(lang, member.created_at, tenant.timezone)),
        ctx.t("profile.balance", balance=fmt.money(lang, member.balance)),
        _subscription_line(ctx, subscription),
    ]
    if feature_enabled(ctx.bot, "daily_quota"):
        use = quota.usage(ctx.session, member, tenant, subscription)
        lines.append(ctx.t("profile.requests", used=fmt.number(lang, use.used), limit=fmt.number(lang, use.limit)))
    lines.append(ctx.t("profile.xp", xp=fmt.number(lang, member.total_xp), level=fmt.digits(lang, member.level),
                       rank=fmt.number(lang, 1 + ahead)))
    earned = badges.badges_of(member) if badged else []
    if earned:
        lines.append(ctx.t("profile.badges", badges=", ".join(f"{b.icon} {badge_title(ctx, b)}" for b in earned)))
    return "\n".join(lines)


def badge_title(ctx, badge) -> str:
    """A built-in badge's title in the member's language; a tenant's own badge as the owner named it."""
    return ctx.t(f"badge.{badge.code}") if badge.code in badges.CATALOGUE else badge.title


def _subscription_line(ctx, subscription) -> str:
    if subscription is None:
        return ctx.t("profile.no_subscription")
    return ctx.t("profile.subscription", plan=subscription.plan.name,
                 end=fmt.date(ctx.lang, subscription.ends_at, ctx.tenant.timezone))


@on_callback
def profile(ctx, call):
    edit(ctx, call.message, profile_text(ctx), home_keyboard(ctx))


@on_message
def profile_command(ctx, message):
    ctx.send(profile_text(ctx), home_keyboard(ctx))


def subscriptions_text(ctx) -> str:
    """The member's latest subscriptions with their status and end date."""
    rows = list(db.session.scalars(
        sa.select(Subscription).where(Subscription.tenant_id == ctx.tenant.id,
                                      Subscription.member_id == ctx.member.id)
        .order_by(Subscription.ends_at.desc()).limit(MAX_LISTED)
    ))
    if not rows:
        return ctx.t("subscriptions.none")
    lines = [ctx.t("subscriptions.title")]
    for sub in rows:
        lines.append(ctx.t("subscriptions.item", plan=sub.plan.name, status=ctx.t(f"subscription.{sub.status}"),
                           end=fmt.date(ctx.lang, sub.ends_at, ctx.tenant.timezone),
                           traffic=_traffic(ctx, sub)))
    return "\n".join(lines)


def _traffic(ctx, sub) -> str:
    if sub.traffic_limit_bytes is None:
        return ctx.t("traffic.unlimited")
    gib = 1024 ** 3
    return ctx.t("traffic.used", used=fmt.digits(ctx.lang, round(sub.traffic_used_bytes / gib, 2)),
                 limit=fmt.digits(ctx.lang, round(sub.traffic_limit_bytes / gib, 2)))


@on_callback
def subscriptions(ctx, call):
    edit(ctx, call.message, subscriptions_text(ctx),
         keyboard([button(ctx.t("menu.plans"), "m:plans")], home_row(ctx)))


def register(bot) -> None:
    bot.register_message_handler(profile_command, commands=["profile"], pass_bot=True)
    bot.register_callback_query_handler(profile, func=lambda c: c.data == "m:profile", pass_bot=True)
    bot.register_callback_query_handler(subscriptions, func=lambda c: c.data == "m:subs", pass_bot=True)
