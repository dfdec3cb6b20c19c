"""Daily metered requests: each bot session may use a number of requests per tenant-local day."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.models import BotSession, Member, Subscription, Tenant
from app.services import clock, settings
from app.services.errors import DomainError
from app.services.locking import lock_row


class QuotaExhausted(DomainError):
    code = "quota_exhausted"


@dataclass(frozen=True)
class Usage:
    used: int
    limit: int
    resets_at: datetime


def next_reset(tenant: Tenant, now: datetime | None = None) -> datetime:
    """The next tenant-local midnight (UTC, aware)."""
    return clock.day_bounds(tenant.timezone or "Asia/Tehran", clock.tenant_today(tenant, now))[1]


def daily_limit(member: Member, tenant: Tenant, subscription: Subscription | None) -> int:
    """Premium (an active subscription or vip_level > 0) or free; the plan's own quota wins."""
    if subscription is not None and subscription.plan.daily_request_quota is not None:
        return subscription.plan.daily_request_quota
    if subscription is not None or member.vip_level > 0:
        return settings.get(tenant, "daily_quota_premium")
    return settings.get(tenant, "daily_quota_free")


def usage(session: BotSession, member: Member, tenant: Tenant, subscription: Subscription | None) -> Usage:
    """Requests used today in this bot, and today's limit."""
    used = session.daily_requests if session.daily_requests_day == clock.tenant_today(tenant) else 0
    return Usage(used, daily_limit(member, tenant, subscription), next_reset(tenant))


def consume_request(session: BotSession, member: Member, tenant: Tenant,
                    subscription: Subscription | None, count: int = 1) -> Usage:
    """Use `count` requests of today's quota; QuotaExhausted (nothing written) past the limit."""
    locked = lock_row(BotSession, session.id, tenant_id=tenant.id)
    current = usage(locked, member, tenant, subscription)
    if current.used + count > current.limit:
        raise QuotaExhausted(f"All {current.limit} requests of today are used; more after midnight."
                             if current.used >= current.limit else
                             f"Only {current.limit - current.used} of today's {current.limit} requests are left.",
                             limit=current.limit, used=current.used, resets_at=current.resets_at)
    locked.daily_requests = current.used + count
    locked.daily_requests_day = clock.tenant_today(tenant)
    return Usage(current.used + count, current.limit, current.resets_at)
