"""Growth rewards for money events: XP by source, purchase badges, and the referral bonus.

The money services call these hooks and hang the result on what they return (`receipt.rewards`,
`subscription.rewards`), so the bot can congratulate a level up and show new badges.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from app.extensions import db
from app.models import Bot, Member, MemberBadge, Receipt
from app.services import badges, referrals, xp
from app.services.levels import LevelChange
from app.services.referrals import ReferralReward


@dataclass
class Rewards:
    """What one money event earned the member (and their referrer)."""

    level_change: LevelChange | None = None
    badges: list[MemberBadge] = field(default_factory=list)
    referral: ReferralReward | None = None


def after_receipt_approved(receipt: Receipt, member: Member, credited: int, *, purchased: bool,
                           referrer: Member | None = None) -> Rewards:
    """XP for the payment (source purchase or topup), purchase badges, and the referrer's bonus.

    The caller holds the row locks of `member` and, when the bonus is due, of `referrer`
    (receipts.approve locks both up front). Both rows change in memory first; the badge checks, which
    query, come last, so each member row is written once.
    """
    bonus = referrals.pay_bonus(member, referrer) if referrer is not None else None
    change = xp.award_locked(member, xp.purchase_xp(member.tenant, credited), key=f"receipt:{receipt.id}",
                             source="purchase" if purchased else "topup")
    if not (change or purchased or bonus):
        return Rewards()
    bot = db.session.get(Bot, receipt.bot_id) if receipt.bot_id else None
    if change is not None:
        badges.check_level(member, bot=bot)
    earned = badges.check_after_purchase(member, bot=bot) if purchased else []
    if bonus is not None:
        if bonus.level_change is not None:
            badges.check_level(referrer, bot=bot)
        badges.check_after_referral(referrer, bot=bot)
    return Rewards(change, earned, bonus)


def after_balance_purchase(member: Member, price: int, *, key: str, bot=None) -> Rewards:
    """XP for a plan bought from the balance, and purchase badges."""
    change = xp.award(member, xp.purchase_xp(member.tenant, price), source="purchase", key=key, bot=bot)
    return Rewards(change, badges.check_after_purchase(member, bot=bot))

