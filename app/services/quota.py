"""Daily metered requests: each bot session may use a number of requests per tenant-local day."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.models import BotSession, Member, Subscription, Tenant
from app.services.errors import DomainError
from app.services.locking import lock_row
from app.services.tenancy import local_today

FREE_DEFAULT = 25
PREMIUM_DEFAULT = 1000


class QuotaExhausted(DomainError):
    code = "quota_exhausted"


@dataclass(frozen=True)
class Usage:
    used: int
    limit: int
    resets_at: datetime


def next_reset(tenant: Tenant, now: datetime | None = None) -> datetime:
    """The next tenant-local midnight, as an aware datetime."""
    zone = ZoneInfo(tenant.timezone or "Asia/Tehran")
    tomorrow = local_today(tenant, now) + timedelta(days=1)
    return datetime.combine(tomorrow, time.min, tzinfo=zone)


def daily_limit(member: Member, tenant: Tenant, subscription: Subscription | None) -> int:
    """Premium (an active subscription or vip_level > 0) or free; the plan's own quota wins."""
    settings = tenant.settings or {}
    if subscription is not None and subscription.plan.daily_request_quota is not None:
        return subscription.plan.daily_request_quota
    if subscription is not None or member.vip_level > 0:
        return int(settings.get("daily_quota_premium", PREMIUM_DEFAULT))
    return int(settings.get("daily_quota_free", FREE_DEFAULT))


def usage(session: BotSession, member: Member, tenant: Tenant, subscription: Subscription | None) -> Usage:
    """Requests used today in this bot, and today's limit."""
    used = session.daily_requests if session.daily_requests_day == local_today(tenant) else 0
    return Usage(used, daily_limit(member, tenant, subscription), next_reset(tenant))


def consume_request(session: BotSession, member: Member, tenant: Tenant,
                    subscription: Subscription | None) -> Usage:
    """Use one request of today's quota; QuotaExhausted (nothing written) at the limit."""
    locked = lock_row(BotSession, session.id, tenant_id=tenant.id)
    current = usage(locked, member, tenant, subscription)
    if current.used >= current.limit:
        raise QuotaExhausted(f"All {current.limit} requests of today are used; more after midnight.",
                             limit=current.limit, resets_at=current.resets_at)
    locked.daily_requests = current.used + 1
    locked.daily_requests_day = local_today(tenant)
    return Usage(current.used + 1, current.limit, current.resets_at)
