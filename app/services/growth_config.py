"""The growth keys of `Tenant.settings` and their defaults (documented in docs/growth.md)."""
from __future__ import annotations

from typing import Any

from app.models import Tenant

#: Every growth key read from Tenant.settings, with the value used when the tenant has not set it.
DEFAULTS: dict[str, Any] = {
    # XP sources a tenant has switched off: purchase, topup, daily_visit, referral, promocode, manual.
    "xp_sources_disabled": [],
    # XP for the first visit of a tenant-local day.
    "xp_daily_visit": 5,
    # Level thresholds: level n starts at levels[n - 1] XP; levels[0] must be 0.
    "levels": None,
    # The referrer's one-time bonus when a referee's first purchase is approved.
    "referral_bonus_toman": 0,
    "referral_bonus_xp": 50,
}


def setting(tenant: Tenant, key: str) -> Any:
    """The tenant's value for a growth key, or its default."""
    value = (tenant.settings or {}).get(key)
    return DEFAULTS[key] if value is None else value


def non_negative_int(tenant: Tenant, key: str) -> int:
    """A whole-number setting; a malformed or negative value falls back to the default."""
    value = setting(tenant, key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return DEFAULTS[key]
    return value
