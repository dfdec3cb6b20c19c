"""Experience points: purchase XP (money), XP sources per tenant, levels, the daily visit and its streak."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.models import Member, MemberBadge, Tenant
from app.services import badges, settings
from app.services.clock import tenant_today
from app.services.errors import NotAllowed, NotFound, ValidationFailed
from app.services.levels import LevelChange, level_for, next_level_at
from app.services.locking import lock_row
from app.services.settings_declared import XP_SOURCES

log = logging.getLogger(__name__)


def purchase_xp(tenant: Tenant, toman: int) -> int:
    """XP for spending `toman`: the tenant's `xp_per_10000_toman` (1 by default) per 10,000 Toman."""
    return max(0, int(toman) * settings.get(tenant, "xp_per_10000_toman") // 10_000)


#: Where XP comes from; a tenant switches sources off with the `xp_sources_disabled` setting.
SOURCES = XP_SOURCES


@dataclass
class Visit:
    """What a member's visit earned: XP and badges on the first visit of a tenant-local day."""

    first_today: bool
    streak_days: int
    level_change: LevelChange | None = None
    badges: list[MemberBadge] = field(default_factory=list)


def source_enabled(tenant: Tenant, source: str) -> bool:
    if source not in SOURCES:
        raise ValidationFailed(f"Unknown XP source {source!r}.")
    return source not in settings.get(tenant, "xp_sources_disabled")


def award(member: Member, points: int, *, source: str, key: str | None = None, bot=None) -> LevelChange | None:
    """Give XP from `source` unless the tenant turned it off; the level up, if any, for the bot.

    Callers guard their own events (a receipt is approved once, a code redeemed once); `key` names the
    event in the log.
    """
    if not source_enabled(member.tenant, source) or points <= 0:
        return None
    change = add_xp(member, points)
    log.info("xp +%s to member %s from %s (%s)", points, member.id, source, key or "-")
    if change is not None:
        badges.check_level(member, bot=bot)
    return change


def award_locked(locked: Member, points: int, *, source: str, key: str | None = None) -> LevelChange | None:
    """award() for a caller that holds the member's row lock: the row changes in memory only.

    No statement runs, so the member row is written once with the rest of the operation; the caller
    checks the level badges (badges.check_level) once its changes are done.
    """
    if not source_enabled(locked.tenant, source) or points <= 0:
        return None
    log.info("xp +%s to member %s from %s (%s)", points, locked.id, source, key or "-")
    return _apply_xp(locked, points)


def record_visit(member: Member, *, bot=None, now: datetime | None = None) -> Visit:
    """Count a visit: on the first of a tenant-local day, extend the streak and award daily XP.

    A member already seen today is answered from the loaded row, without a lock or a write.
    """
    if member.last_visit_day is not None and member.last_visit_day >= tenant_today(member.tenant, now):
        return Visit(first_today=False, streak_days=member.streak_days)
    locked = lock_row(Member, member.id, tenant_id=member.tenant_id)
    if locked is None:
        raise NotFound("This member no longer exists.")
    today = tenant_today(locked.tenant, now)
    if locked.last_visit_day is not None and locked.last_visit_day >= today:
        return Visit(first_today=False, streak_days=locked.streak_days)
    continues = locked.last_visit_day == today - timedelta(days=1)
    locked.streak_days = locked.streak_days + 1 if continues else 1
    locked.last_visit_day = today
    points = settings.get(locked.tenant, "xp_daily_visit")
    change = award(locked, points, source="daily_visit", key=f"visit:{locked.id}:{today}", bot=bot)
    return Visit(True, locked.streak_days, change, badges.check_streak(locked, bot=bot))


def add_xp(member: Member, points: int) -> LevelChange | None:
    """Add XP (all-time and today) under the member's row lock; the level up, if the table says so."""
    if isinstance(points, bool) or not isinstance(points, int):
        raise ValidationFailed("XP is a whole number.")
    if points <= 0:
        return None
    locked = lock_row(Member, member.id, tenant_id=member.tenant_id)
    if locked is None:
        raise NotFound("This member no longer exists.")
    return _apply_xp(locked, points)


def _apply_xp(locked: Member, points: int) -> LevelChange | None:
    today = tenant_today(locked.tenant)
    locked.total_xp += points
    # The daily reset runs a little after midnight: XP of a new day starts the counter afresh.
    locked.xp_today = points if locked.xp_today_day != today else locked.xp_today + points
    locked.xp_today_day = today
    old_level, new_level = locked.level, level_for(locked.tenant, locked.total_xp)
    if new_level <= old_level:
        return None
    locked.level = new_level
    return LevelChange(old_level, new_level, locked.total_xp, next_level_at(locked.tenant, new_level))


#: The most XP one API call may give.
MAX_API_XP = 1_000_000


@dataclass(frozen=True)
class XpGiven:
    leveled_up: bool
    old_level: int
    new_level: int
    total_xp: int


def award_from_service(member: Member, amount: int, *, reason: str, bot=None) -> XpGiven:
    """XP a sibling service gives (source "api", which the tenant can switch off like any source)."""
    if type(amount) is not int or not 1 <= amount <= MAX_API_XP:
        raise ValidationFailed(f"XP is a whole number from 1 to {MAX_API_XP:,}.")
    if not source_enabled(member.tenant, "api"):
        raise NotAllowed("This tenant does not accept XP from its API.")
    old_level = member.level
    change = award(member, amount, source="api", key=reason, bot=bot)
    return XpGiven(change is not None, old_level, member.level, member.total_xp)
