"""Members (Telegram users of a tenant) and their per-bot sessions."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import DeltaCountRow, Money, UTCDateTime, delta_count_indexes, utcnow


class Member(db.Model):
    """A Telegram user of a tenant, shared by all of that tenant's bots (one balance, one XP)."""

    __tablename__ = "members"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "telegram_id"),
        sa.UniqueConstraint("tenant_id", "referral_code"),
        sa.CheckConstraint("balance >= 0", name="balance_nonneg"),
        # Leaderboards read these backwards: ORDER BY total_xp DESC, id DESC; today's within one day.
        sa.Index("ix_members_tenant_total_xp", "tenant_id", "total_xp", "id"),
        sa.Index("ix_members_tenant_xp_today_day", "tenant_id", "xp_today_day", "xp_today", "id"),
        sa.Index("ix_members_tenant_username", "tenant_id", "username"),
        sa.Index("ix_members_tenant_created_at", "tenant_id", "created_at"),
        sa.Index("ix_members_referred_by", "referred_by_id"),
        # The dashboard's keyset pages (newest first) and its case-insensitive prefix search.
        sa.Index("ix_members_tenant_id_id", "tenant_id", "id"),
        *(sa.Index(f"ix_members_tenant_lower_{name}", "tenant_id", sa.func.lower(sa.column(name)).label(name),
                   postgresql_ops={name: "text_pattern_ops"}) for name in ("username", "first_name", "last_name")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    telegram_id: Mapped[int] = mapped_column(sa.BigInteger)
    username: Mapped[Optional[str]] = mapped_column(sa.String(64))
    first_name: Mapped[Optional[str]] = mapped_column(sa.String(128))
    last_name: Mapped[Optional[str]] = mapped_column(sa.String(128))
    #: Chosen bot language (fa, en, ru); first guessed from Telegram's language_code.
    language_code: Mapped[Optional[str]] = mapped_column(sa.String(8))
    #: Toman; changed only through the ledger service.
    balance: Mapped[int] = mapped_column(Money, default=0)
    vip_level: Mapped[int] = mapped_column(default=0)
    #: True until the member's first purchase.
    is_newcomer: Mapped[bool] = mapped_column(default=True)
    is_banned: Mapped[bool] = mapped_column(default=False)
    total_xp: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: XP earned on xp_today_day (tenant-local); on any other day it reads as 0 (nothing resets it).
    xp_today: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    xp_today_day: Mapped[Optional[date]] = mapped_column(sa.Date)
    level: Mapped[int] = mapped_column(default=1)
    referral_code: Mapped[str] = mapped_column(sa.String(16))
    referred_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"))
    #: When the referrer's one-time bonus for this member was paid.
    referral_rewarded_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: Consecutive tenant-local days with a visit, and the last such day.
    streak_days: Mapped[int] = mapped_column(default=0)
    last_visit_day: Mapped[Optional[date]] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the member last wrote to one of the tenant's bots, exact to bots.context.ACTIVITY_RESOLUTION (None: never);
    #: the dashboard's "Last seen". Nothing sorts or filters by it (no index since migration 0047).
    last_activity_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    tenant = relationship("Tenant")
    referred_by: Mapped[Optional[Member]] = relationship(remote_side="Member.id")

    @property
    def display_name(self) -> str:
        full = " ".join(p for p in (self.first_name, self.last_name) if p)
        return full or (f"@{self.username}" if self.username else str(self.telegram_id))

    def __repr__(self) -> str:
        return f"<Member {self.id} tg={self.telegram_id} tenant={self.tenant_id}>"


class BotSession(db.Model):
    """A member's state in one bot: conversation state, session data, stats, daily requests."""

    __tablename__ = "bot_sessions"
    __table_args__ = (sa.UniqueConstraint("member_id", "bot_id"), sa.Index("ix_bot_sessions_bot_id", "bot_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"))
    bot_id: Mapped[int] = mapped_column(sa.ForeignKey("bots.id", ondelete="CASCADE"))
    #: Conversation step the bot waits on (e.g. awaiting_receipt), or None.
    state: Mapped[Optional[str]] = mapped_column(sa.String(64))
    session_data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    stats_data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: Metered requests used on daily_requests_day (tenant-local).
    daily_requests: Mapped[int] = mapped_column(default=0)
    daily_requests_day: Mapped[Optional[date]] = mapped_column(sa.Date)
    #: When the member blocked this bot (Telegram answered 403, or my_chat_member said kicked); None while
    #: the bot can write to them. Cleared when they write to the bot again. Broadcasts skip blocked sessions.
    blocked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: Bumped by every API write of session_data/stats_data (0: never written); the API's If-Match compares it.
    version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    member: Mapped[Member] = relationship()
    bot = relationship("Bot")


class MemberXpCount(DeltaCountRow, db.Model):
    """How many members of a tenant hold each XP total: the all-time rank is a sum of these, not a count of members.

    Written only by database triggers on `members` (see migration 0042), in the transaction of the change, so
    every writer of total_xp (XP awards, imports, merges, deletes, raw SQL) keeps it exact. Triggers only
    append delta rows (+n / -n, `fresh`), so concurrent XP awards never wait on each other here;
    app.services.xp_counts.compact folds them into one row per key. Three levels:
    - level 2: total_xp holds total_xp >> 8 (a coarse bucket), id_block 0;
    - level 1: the exact total_xp, id_block 0;
    - level 0: the exact total_xp and id_block = member id >> 10 (the tie order among equal XP).
    """

    __tablename__ = "member_xp_counts"
    __table_args__ = delta_count_indexes("member_xp_counts", "level", "total_xp", "id_block", counted="members")

    level: Mapped[int] = mapped_column(sa.SmallInteger)
    total_xp: Mapped[int] = mapped_column(sa.BigInteger)
    id_block: Mapped[int] = mapped_column(sa.Integer)
    members: Mapped[int] = mapped_column(sa.BigInteger)


class MemberVisitCount(DeltaCountRow, db.Model):
    """Members whose first visit of a tenant-local day was that day: the daily stats' active members are a sum of
    these rows, not a count of members.

    Written only by database triggers on `members` (migration 0046), in the transaction of the change: +1 to
    (tenant, day) when a member is inserted with last_visit_day set or their last_visit_day moves to another
    day (xp.record_visit, the first update of their day). A member's later visits do not take back an earlier
    day's count, and a deleted member's past days stay counted. Delta rows (`fresh`) like MemberXpCount;
    app.services.visit_counts.compact_tenant folds them.
    """

    __tablename__ = "member_visit_counts"
    __table_args__ = delta_count_indexes("member_visit_counts", "day", counted="members")

    #: The tenant-local day of the visits.
    day: Mapped[date] = mapped_column(sa.Date)
    members: Mapped[int] = mapped_column(sa.BigInteger)
