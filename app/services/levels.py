"""Levels: an XP threshold table per tenant (adding XP is xp.add_xp)."""
from __future__ import annotations

import bisect
from dataclasses import dataclass

from app.models import Tenant
from app.services import settings
from app.services.errors import ValidationFailed
from app.services.settings_declared import DEFAULT_LEVELS

#: Level n starts at DEFAULT_LEVELS[n - 1] total XP (level 1 at 0 XP); declared with the `levels` setting.
__all__ = ["DEFAULT_LEVELS", "LevelChange", "thresholds", "set_thresholds", "level_for", "level_in", "next_level_at"]


@dataclass(frozen=True)
class LevelChange:
    """A level up, for the bot to congratulate."""

    old_level: int
    new_level: int
    total_xp: int
    #: XP needed for the level after new_level; None at the top level.
    next_level_at: int | None


def thresholds(tenant: Tenant) -> tuple[int, ...]:
    """The tenant's level table, or DEFAULT_LEVELS when unset or malformed."""
    return tuple(settings.get(tenant, "levels"))


def set_thresholds(tenant: Tenant, table) -> tuple[int, ...]:
    """Store a tenant's level table after checking it (starts at 0, strictly increasing)."""
    checked = _checked(table)
    settings.update(tenant, {"levels": list(checked)}, by="system")
    return checked


def level_for(tenant: Tenant, total_xp: int) -> int:
    return level_in(thresholds(tenant), total_xp)


def level_in(table: tuple[int, ...], total_xp: int) -> int:
    """The level of `total_xp` in a level table (for callers that read the table once for many members)."""
    return bisect.bisect_right(table, max(total_xp, 0))


def next_level_at(tenant: Tenant, level: int) -> int | None:
    """The total XP where `level + 1` starts, or None when `level` is the top one."""
    table = thresholds(tenant)
    return table[level] if 0 <= level < len(table) else None


def _checked(table) -> tuple[int, ...]:
    if table is None:
        return DEFAULT_LEVELS
    if not isinstance(table, (list, tuple)) or not table or any(
            isinstance(t, bool) or not isinstance(t, int) for t in table):
        raise ValidationFailed("The level table must be a list of whole numbers of XP.")
    if table[0] != 0:
        raise ValidationFailed("The first level must start at 0 XP.")
    if any(b <= a for a, b in zip(table, table[1:])):
        raise ValidationFailed("Each level must need more XP than the one before.")
    return tuple(table)
