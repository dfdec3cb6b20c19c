"""Daily metered requests: each bot session may use a number of requests per tenant-local day."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.models import BotSession, Member, Subscription, Tenant
from app.services import clock, settings
from app.services.errors import DomainError


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
    """Use `count` requests of today's quota; QuotaExhausted (nothing written) past the limit.

    One conditional UPDATE … RETURNING: the row's lock is held only by that statement, and concurrent
    spenders are serialized by it (Postgres re-checks the condition on the row it waited for).
    """
    today, limit = clock.tenant_today(tenant), daily_limit(member, tenant, subscription)
    used_today = sa.case((BotSession.daily_requests_day == today, BotSession.daily_requests), else_=0)
    spent = db.session.execute(
        sa.update(BotSession).where(BotSession.id == session.id, BotSession.tenant_id == tenant.id,
                                    used_today + count <= limit)
        .values(daily_requests=used_today + count, daily_requests_day=today).returning(BotSession.daily_requests),
        execution_options={"synchronize_session": False}).scalar_one_or_none()
    if spent is None:
        used = db.session.scalar(sa.select(used_today).where(BotSession.id == session.id))
        raise QuotaExhausted(f"All {limit} requests of today are used; more after midnight." if used >= limit else
                             f"Only {limit - used} of today's {limit} requests are left.",
                             limit=limit, used=used, resets_at=next_reset(tenant))
    db.session.expire(session, ["daily_requests", "daily_requests_day"])
    return Usage(spent, limit, next_reset(tenant))
