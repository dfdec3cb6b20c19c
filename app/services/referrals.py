"""Referrals: who invited whom, and the referrer's one-time bonus on the referee's first purchase."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.models import LedgerEntry, Member, utcnow
from app.services import badges, events, ledger, settings, xp
from app.services.errors import DomainError, NotFound
from app.services.levels import LevelChange
from app.services.locking import lock_member_and_referrer

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
    #: The referrer's ledger entry (None for an XP-only bonus), to announce once flushed.
    entry: LedgerEntry | None = None


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
    """Pay the referrer's bonus once, on the referee's first approved purchase; None if nothing is due.

    For a caller holding no member lock: locks both rows in id order, pays, checks the referrer's badges.
    """
    if not bonus_due(member):
        return None
    locked, referrer = lock_member_and_referrer(member.tenant_id, member.id)
    if referrer is None:
        return None
    reward = pay_bonus(locked, referrer)
    db.session.flush()
    if reward.entry is not None:
        events.balance_changed(reward.entry)
    if reward.level_change is not None:
        badges.check_level(referrer, bot=bot)
    badges.check_after_referral(referrer, bot=bot)
    return reward


def bonus_due(member: Member) -> bool:
    """Whether the member's referrer is still owed the one-time bonus (read under the member's lock)."""
    return member.referred_by_id is not None and member.referral_rewarded_at is None


def pay_bonus(locked: Member, referrer: Member) -> ReferralReward:
    """Pay the referrer's bonus for `locked`'s first approved purchase; the caller holds both row locks.

    Both rows change in memory only (no statement), so receipts.approve writes each member row once;
    the caller checks the referrer's badges (badges.check_after_referral) when its changes are done.
    """
    locked.referral_rewarded_at = utcnow()
    toman = settings.get(locked.tenant, "referral_bonus_toman")
    entry = None
    if toman:
        entry = ledger.credit_locked_member(referrer, toman, key=f"referral:{locked.id}", kind=BONUS_KIND,
                                    ref_type="member", ref_id=locked.id, actor="system")
    points = settings.get(locked.tenant, "referral_bonus_xp")
    if not xp.source_enabled(locked.tenant, "referral"):
        points = 0
    change = xp.award_locked(referrer, points, source="referral", key=f"referral:{locked.id}")
    return ReferralReward(referrer, toman, points, change, entry)


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
