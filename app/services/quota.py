"""Daily metered requests: each bot session may use a number of requests per tenant-local day."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.models import Bot, BotSession, Member, Subscription, Tenant
from app.models.types import UTCDateTime, utcnow
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


#: Spend today's requests and make the session on first use, in one statement for Postgres and SQLite alike.
#: Written as text because SQLAlchemy does not cache the compiled SQL of an ON CONFLICT statement: built with
#: insert().on_conflict_do_update() it was compiled again on every request (~1 ms, a third of a consume).
_SPEND = sa.text("""
    INSERT INTO bot_sessions AS s (tenant_id, member_id, bot_id, session_data, stats_data, daily_requests,
                                   daily_requests_day, version, created_at, updated_at)
    VALUES (:tenant_id, :member_id, :bot_id, '{}', '{}', :count, :today, 0, :now, :now)
    ON CONFLICT (member_id, bot_id) DO UPDATE
    SET daily_requests = CASE WHEN s.daily_requests_day = :today THEN s.daily_requests ELSE 0 END + :count,
        daily_requests_day = :today, updated_at = :now
    WHERE s.tenant_id = :tenant_id
      AND CASE WHEN s.daily_requests_day = :today THEN s.daily_requests ELSE 0 END + :count <= :limit
    RETURNING daily_requests
""").bindparams(sa.bindparam("today", type_=sa.Date), sa.bindparam("now", type_=UTCDateTime()))


def _spend(member: Member, bot_id: int, tenant: Tenant, limit: int, count: int) -> Usage:
    """The row's lock is held only by the one statement (_SPEND); concurrent spenders are serialized by it
    (Postgres re-checks the condition on the row it waited for). Past the limit nothing is written."""
    today = clock.tenant_today(tenant)
    spent = None if count > limit else db.session.execute(_SPEND, {
        "tenant_id": tenant.id, "member_id": member.id, "bot_id": bot_id, "count": count, "today": today,
        "now": utcnow(), "limit": limit}).scalar_one_or_none()
    if spent is None:
        used_today = sa.case((BotSession.daily_requests_day == today, BotSession.daily_requests), else_=0)
        used = db.session.scalar(sa.select(used_today).where(BotSession.member_id == member.id,
                                                             BotSession.bot_id == bot_id)) or 0
        raise QuotaExhausted(f"All {limit} requests of today are used; more after midnight." if used >= limit else
                             f"Only {limit - used} of today's {limit} requests are left.",
                             limit=limit, used=used, resets_at=next_reset(tenant))
    return Usage(spent, limit, next_reset(tenant))
