"""Referrals: who invited whom, and the referrer's one-time bonus on the referee's first purchase."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.models import LedgerEntry, Member, utcnow
from app.services import badges, ledger, settings, xp
from app.services.errors import DomainError, NotFound
from app.services.levels import LevelChange
from app.services.locking import lock_row

BONUS_KIND = "referral_bonus"
DEEP_LINK_PREFIX = "ref_"


class ReferralRefused(DomainError):
    code = "referral_refused"


@dataclass(frozen=True)
class ReferralReward:
    """The bonus paid to a referrer, so the bot can tell them."""

    referrer: Member
    toman: int
    xp: int
    level_change: LevelChange | None


@dataclass(frozen=True)
class ReferralStats:
    invited: int
    purchased: int
    earned_toman: int


def referral_link(member: Member, bot_username: str) -> str:
    return f"https://t.me/{bot_username}?start={DEEP_LINK_PREFIX}{member.referral_code}"


def set_referrer(member: Member, referral_code: str) -> Member:
    """Record who invited `member`: once, before their first purchase, never themselves, never a loop."""
    referrer = db.session.scalar(sa.select(Member).where(
        Member.tenant_id == member.tenant_id, Member.referral_code == (referral_code or "").strip().upper()))
    if referrer is None:
        raise NotFound("That invitation link is not valid.")
    if member.referred_by_id is not None:
        raise ReferralRefused("You were already invited by someone.")
    if referrer.id == member.id:
        raise ReferralRefused("You cannot invite yourself.")
    if not member.is_newcomer:
        raise ReferralRefused("Invitations count only before your first purchase.")
    if member.id in _chain_above(referrer):
        raise ReferralRefused("That member was invited by you, so they cannot invite you.")
    member.referred_by_id = referrer.id
    db.session.flush()
    return referrer


def on_purchase_approved(member: Member, *, bot=None) -> ReferralReward | None:
    """Pay the referrer's bonus once, on the referee's first approved purchase; None if nothing is due."""
    if member.referred_by_id is None or member.referral_rewarded_at is not None:
        return None
    locked = lock_row(Member, member.id, tenant_id=member.tenant_id)
    if locked.referred_by_id is None or locked.referral_rewarded_at is not None:
        return None
    locked.referral_rewarded_at = utcnow()
    referrer = db.session.get(Member, locked.referred_by_id)
    toman = settings.get(locked.tenant, "referral_bonus_toman")
    if toman:
        ledger.credit_member(referrer, toman, key=f"referral:{locked.id}", kind=BONUS_KIND,
                             ref_type="member", ref_id=locked.id, actor="system")
    points = settings.get(locked.tenant, "referral_bonus_xp")
    if not xp.source_enabled(locked.tenant, "referral"):
        points = 0
    change = xp.award(referrer, points, source="referral", key=f"referral:{locked.id}", bot=bot)
    badges.check_after_referral(referrer, bot=bot)
    return ReferralReward(referrer, toman, points, change)


def stats(member: Member) -> ReferralStats:
    """How many the member invited, how many of them bought, and the Toman it earned them."""
    invited = db.session.scalar(sa.select(sa.func.count(Member.id)).where(
        Member.tenant_id == member.tenant_id, Member.referred_by_id == member.id))
    earned = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.tenant_id == member.tenant_id, LedgerEntry.member_id == member.id,
        LedgerEntry.kind == BONUS_KIND))
    return ReferralStats(invited, badges.referral_count(member), int(earned))


def _chain_above(member: Member, limit: int = 10_000) -> set[int]:
    """The ids of `member` and everyone up its chain of referrers."""
    seen: set[int] = set()
    current_id: int | None = member.id
    while current_id is not None and current_id not in seen and len(seen) < limit:
        seen.add(current_id)
        current_id = db.session.scalar(sa.select(Member.referred_by_id).where(
            Member.tenant_id == member.tenant_id, Member.id == current_id))
    return seen
