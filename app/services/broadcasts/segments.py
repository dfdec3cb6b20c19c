"""Who a broadcast goes to: a segment of a tenant's members, as SQL, counted and walked in id order.

A segment is a kind (everyone, active subscribers, expired in the last N days, never bought) narrowed
by optional filters (language, joined between two dates, has / has not a badge). Only members with a
session on one of the chosen bots are recipients; banned members never are. Members who blocked every
chosen bot are recipients too: their delivery row says `blocked` (skipped and counted).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import (
    BotSession,
    BroadcastDelivery,
    Member,
    MemberBadge,
    Subscription,
    SubscriptionSource,
    SubscriptionStatus,
    Tenant,
)
from app.services import members, settings
from app.services.errors import DomainError

KINDS = ("all", "active", "expired", "never_bought")
#: The languages members can have (bots/locales); a member without one gets the tenant's default.
LANGUAGES = ("fa", "en", "ru")
_RUNNING = (SubscriptionStatus.ACTIVE.value, SubscriptionStatus.LIMITED.value)
_BOUGHT = (SubscriptionSource.BALANCE.value, SubscriptionSource.RECEIPT.value)


@dataclass(frozen=True)
class Segment:
    kind: str = "all"
    #: For kind "expired": the subscription ended within this many days.
    days: int | None = None
    language: str | None = None
    #: Joined on or after / on or before these days (the tenant's time zone).
    joined_from: date | None = None
    joined_to: date | None = None
    #: A badge code, and whether the member must have it (True) or must not (False).
    badge: str | None = None
    badge_has: bool = True

    def __post_init__(self):
        if self.kind not in KINDS:
            raise DomainError(f"Unknown segment {self.kind!r}.")
        if self.kind == "expired" and not (self.days and 0 < self.days <= 3650):
            raise DomainError("Give the number of days (1 to 3650) for 'expired in the last N days'.")
        if self.language and self.language not in LANGUAGES:
            raise DomainError(f"Unknown language {self.language!r}.")
        if self.joined_from and self.joined_to and self.joined_from > self.joined_to:
            raise DomainError("The 'joined from' day is after the 'joined to' day.")

    def as_dict(self) -> dict:
        values = asdict(self)
        for name in ("joined_from", "joined_to"):
            values[name] = values[name].isoformat() if values[name] else None
        return values

    @classmethod
    def from_dict(cls, values: dict) -> Segment:
        values = dict(values or {})
        for name in ("joined_from", "joined_to"):
            if values.get(name):
                values[name] = date.fromisoformat(values[name])
        return cls(**values)


def member_language(code: str | None, default: str) -> str:
    """The language a member reads (as the bots decide it): their code if we speak it, else the default."""
    short = (code or "").split("-")[0].split("_")[0].strip().lower()
    return short if short in LANGUAGES else default


def default_language(tenant: Tenant) -> str:
    chosen = settings.get(tenant, "default_language")
    return chosen if chosen in LANGUAGES else LANGUAGES[0]


def language_expression(default: str):
    """SQL for member_language(Member.language_code, default)."""
    code = sa.func.lower(Member.language_code)
    short = sa.func.substr(code, 1, 2)
    speaks = sa.and_(short.in_(LANGUAGES),
                     sa.or_(sa.func.length(code) == 2, sa.func.substr(code, 3, 1).in_(("-", "_"))))
    return sa.case((speaks, short), else_=sa.literal(default))


def not_blocked(session=BotSession):
    """The sessions (`session`: BotSession or an alias) a message can go through: not blocked by the member
    (app.services.members.reachable).

    A recipient whose sessions on the chosen bots are all blocked gets a `blocked` delivery row (skipped and
    counted), not a send.
    """
    return members.reachable(session)


def conditions(tenant: Tenant, segment: Segment, bot_ids: list[int], now: datetime) -> list:
    """WHERE clauses over Member for the members of `segment` reachable through `bot_ids`."""
    where = [Member.tenant_id == tenant.id, Member.is_banned.is_(False),
             sa.exists().where(BotSession.member_id == Member.id, BotSession.bot_id.in_(bot_ids))]
    where += _kind(tenant, segment, now)
    if segment.language:
        where.append(language_expression(default_language(tenant)) == segment.language)
    where += _joined(tenant, segment)
    if segment.badge:
        has = sa.exists().where(MemberBadge.member_id == Member.id, MemberBadge.tenant_id == tenant.id,
                                MemberBadge.badge_code == segment.badge)
        where.append(has if segment.badge_has else ~has)
    return where


def _subscription(tenant: Tenant, *criteria):
    return sa.exists().where(Subscription.member_id == Member.id, Subscription.tenant_id == tenant.id, *criteria)


def _kind(tenant: Tenant, segment: Segment, now: datetime) -> list:
    running = _subscription(tenant, Subscription.status.in_(_RUNNING), Subscription.ends_at > now)
    if segment.kind == "active":
        return [running]
    if segment.kind == "expired":
        ended = _subscription(tenant, Subscription.status != SubscriptionStatus.CANCELLED.value,
                              Subscription.ends_at <= now, Subscription.ends_at > now - timedelta(days=segment.days))
        return [ended, ~running]
    if segment.kind == "never_bought":
        return [~_subscription(tenant, Subscription.source.in_(_BOUGHT))]
    return []


def _joined(tenant: Tenant, segment: Segment) -> list:
    zone = ZoneInfo(tenant.timezone)
    where = []
    if segment.joined_from:
        where.append(Member.created_at >= datetime.combine(segment.joined_from, time.min, zone))
    if segment.joined_to:
        where.append(Member.created_at < datetime.combine(segment.joined_to + timedelta(days=1), time.min, zone))
    return where


def count(tenant: Tenant, segment: Segment, bot_ids: list[int], now: datetime) -> int:
    return db.session.scalar(sa.select(sa.func.count(Member.id)).where(*conditions(tenant, segment, bot_ids, now)))


def count_by_language(tenant: Tenant, segment: Segment, bot_ids: list[int], now: datetime) -> dict[str, int]:
    language = language_expression(default_language(tenant))
    rows = db.session.execute(sa.select(language, sa.func.count(Member.id))
                              .where(*conditions(tenant, segment, bot_ids, now)).group_by(language))
    return {lang: n for lang, n in rows}


def after(tenant: Tenant, segment: Segment, bot_ids: list[int], now: datetime, cursor: int, limit: int,
          unwritten: int | None = None) -> list:
    """The next `limit` recipients with member id > cursor, in id order: (id, telegram_id, language_code) rows;
    with `unwritten` (a broadcast id), only those without a delivery row of that broadcast yet."""
    where = [Member.id > cursor, *conditions(tenant, segment, bot_ids, now)]
    if unwritten is not None:
        where.append(~sa.exists().where(BroadcastDelivery.broadcast_id == unwritten,
                                        BroadcastDelivery.member_id == Member.id))
    return list(db.session.execute(
        sa.select(Member.id, Member.telegram_id, Member.language_code).where(*where).order_by(Member.id).limit(limit)))


def first_per_bot(tenant: Tenant, segment: Segment, bot_ids: list[int], now: datetime, limit: int, *,
                  after: dict[int, int] | None = None, unwritten: int | None = None) -> list:
    """The first `limit` recipients (member id order) whose chosen bot (`chosen_bots`, among `bot_ids`) is each of
    `bot_ids`, or of the bots `after` names, each after the member id it gives, in one statement: (id, telegram_id,
    language_code) rows, in id order; with `unwritten` (a broadcast id), only those without a delivery row of that
    broadcast yet."""
    where = conditions(tenant, segment, bot_ids, now)
    if unwritten is not None:
        where.append(~sa.exists().where(BroadcastDelivery.broadcast_id == unwritten,
                                        BroadcastDelivery.member_id == Member.id))
    parts = [sa.select(Member.id, Member.telegram_id, Member.language_code)
             .where(*where, Member.id > start, Member.id.in_(sa.select(BotSession.member_id)
                                                             .where(BotSession.bot_id == bot_id,
                                                                    _chosen_session(bot_ids))))
             .order_by(Member.id).limit(limit).subquery()
             for bot_id, start in (after or dict.fromkeys(bot_ids, 0)).items()]
    return sorted(db.session.execute(sa.union_all(*(sa.select(part) for part in parts))), key=lambda row: row.id)


def chosen_bots(member_ids: list[int], bot_ids: list[int]) -> dict[int, int]:
    """member id → the chosen bot the member used last, among sessions not blocked (absent: all blocked)."""
    rows = db.session.execute(sa.select(BotSession.member_id, BotSession.bot_id)
                              .where(BotSession.member_id.in_(member_ids), _chosen_session(bot_ids)))
    return {member_id: bot_id for member_id, bot_id in rows}


def _chosen_session(bot_ids: list[int]):
    """A BotSession row that is its member's chosen one: on a chosen bot, not blocked, and no such session of the
    member's was used later (updated_at, then id, decide)."""
    later = aliased(BotSession)
    return sa.and_(BotSession.bot_id.in_(bot_ids), not_blocked(), ~sa.exists().where(
        later.member_id == BotSession.member_id, later.bot_id.in_(bot_ids), not_blocked(later),
        sa.tuple_(later.updated_at, later.id) > sa.tuple_(BotSession.updated_at, BotSession.id)))
