"""Daily metered requests: each bot session may use a number of requests per tenant-local day."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import Bot, BotSession, Member, Subscription, Tenant
from app.models.types import utcnow
from app.services import clock, settings
from app.services.errors import DomainError, NotFound


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
    """Use `count` requests of today's quota in this bot session; QuotaExhausted (nothing written) past the limit."""
    use = _spend(member, session.bot_id, tenant, daily_limit(member, tenant, subscription), count)
    db.session.expire(session, ["daily_requests", "daily_requests_day", "updated_at"])
    return use


def consume_in_bot(member: Member, bot: Bot, tenant: Tenant, subscription: Subscription | None,
                   count: int = 1) -> Usage:
    """consume_request for the member's session in `bot`, which is created on first use (the API's caller
    need not have talked to the bot)."""
    if bot.tenant_id != member.tenant_id:
        raise NotFound("No such bot.")
    return _spend(member, bot.id, tenant, daily_limit(member, tenant, subscription), count)


def _spend(member: Member, bot_id: int, tenant: Tenant, limit: int, count: int) -> Usage:
    """One INSERT … ON CONFLICT (member_id, bot_id) DO UPDATE … WHERE within the limit … RETURNING: it makes
    the session on first use, and the row's lock is held only by that statement; concurrent spenders are
    serialized by it (Postgres re-checks the condition on the row it waited for)."""
    today = clock.tenant_today(tenant)
    used_today = sa.case((BotSession.daily_requests_day == today, BotSession.daily_requests), else_=0)
    insert = (postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite).insert(BotSession)
    spent = None if count > limit else db.session.execute(
        insert.values(tenant_id=tenant.id, member_id=member.id, bot_id=bot_id, session_data={}, stats_data={},
                      daily_requests=count, daily_requests_day=today, version=0)
        .on_conflict_do_update(index_elements=["member_id", "bot_id"],
                               set_={"daily_requests": used_today + count, "daily_requests_day": today,
                                     "updated_at": utcnow()},
                               where=(BotSession.tenant_id == tenant.id) & (used_today + count <= limit))
        .returning(BotSession.daily_requests)).scalar_one_or_none()
    if spent is None:
        used = db.session.scalar(sa.select(used_today).where(BotSession.member_id == member.id,
                                                             BotSession.bot_id == bot_id)) or 0
        raise QuotaExhausted(f"All {limit} requests of today are used; more after midnight." if used >= limit else
                             f"Only {limit - used} of today's {limit} requests are left.",
                             limit=limit, used=used, resets_at=next_reset(tenant))
    return Usage(spent, limit, next_reset(tenant))
