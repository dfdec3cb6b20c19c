"""Referral deep links (`ref_<code>`) and the invite-friends screen."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Member
from bots.handlers.common import edit, feature_off, on_callback
from bots.keyboards import home_row, keyboard

#: How far up a referral chain we look for a loop.
CHAIN_LIMIT = 100


def apply_referral(ctx, code: str) -> None:
    """Record who invited this member: once, never oneself, never in a loop, before any purchase."""
    if feature_off(ctx, "referrals"):
        return
    member = ctx.member
    referrer = db.session.scalar(sa.select(Member).where(
        Member.tenant_id == ctx.tenant.id, Member.referral_code == code.strip().upper()))
    if referrer is None or member.referred_by_id is not None or not member.is_newcomer:
        return
    if referrer.id == member.id or _in_chain_of(referrer, member.id):
        return
    member.referred_by_id = referrer.id
    db.session.flush()
    ctx.say("referral.joined", name=referrer.display_name)


def _in_chain_of(referrer: Member, member_id: int) -> bool:
    """Whether `member_id` already sits above `referrer` in its chain of inviters."""
    current = referrer
    for _ in range(CHAIN_LIMIT):
        if current.referred_by_id is None:
            return False
        if current.referred_by_id == member_id:
            return True
        current = db.session.get(Member, current.referred_by_id)
    return True


def invited_count(member: Member) -> int:
    return db.session.scalar(sa.select(sa.func.count(Member.id)).where(
        Member.tenant_id == member.tenant_id, Member.referred_by_id == member.id))


@on_callback
def invite(ctx, call):
    """The member's referral link and how many people joined through it."""
    if feature_off(ctx, "referrals"):
        return ctx.t("feature.off")
    link = f"https://t.me/{ctx.bot.username}?start=ref_{ctx.member.referral_code}"
    edit(ctx, call.message, ctx.t("referral.invite", link=link, count=invited_count(ctx.member)),
         keyboard(home_row(ctx)))


def register(bot) -> None:
    bot.register_callback_query_handler(invite, func=lambda c: c.data == "m:ref", pass_bot=True)
