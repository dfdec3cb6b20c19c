"""Paid chats (a tenant's channels and groups a plan grants access to), access grants, and Stars payments."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, one_of, utcnow


class GrantState(str, enum.Enum):
    #: An invite link is being made or was sent; the member has not joined yet.
    INVITED = "invited"
    JOINED = "joined"
    #: The right ended; the ban-then-unban is queued.
    REMOVING = "removing"
    REMOVED = "removed"


class StarPaymentStatus(str, enum.Enum):
    PAID = "paid"
    #: The owner asked for the refund; refundStarPayment is queued.
    REFUNDING = "refunding"
    REFUNDED = "refunded"


#: Which chats a plan grants access to.
plan_chats = sa.Table(
    "plan_chats", db.metadata,
    sa.Column("plan_id", sa.ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("paid_chat_id", sa.ForeignKey("paid_chats.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class PaidChat(db.Model):
    """A tenant's channel or group that plans sell access to, run through one of its bots."""

    __tablename__ = "paid_chats"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "chat_id", name="uq_paid_chats_tenant_chat"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    #: The bot that administers the chat (creates links, removes members, sees joins).
    bot_id: Mapped[int] = mapped_column(sa.ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    #: Telegram's chat id (negative for groups and channels).
    chat_id: Mapped[int] = mapped_column(sa.BigInteger)
    title: Mapped[str] = mapped_column(sa.String(255))
    #: channel, group or supergroup.
    type: Mapped[str] = mapped_column(sa.String(20))
    #: The bot's rights at the last check (getChatMember).
    is_admin: Mapped[bool] = mapped_column(default=False)
    can_invite: Mapped[bool] = mapped_column(default=False)
    can_restrict: Mapped[bool] = mapped_column(default=False)
    rights_checked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: When the reconciliation job last compared members with grants, and what it fixed.
    reconciled_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    last_fixes: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    bot = relationship("Bot")
    plans = relationship("Plan", secondary=plan_chats, backref="chats", order_by="Plan.id")

    @property
    def usable(self) -> bool:
        """The bot can invite and remove members here."""
        return self.is_admin and self.can_invite and self.can_restrict

    def __repr__(self) -> str:
        return f"<PaidChat {self.id} {self.chat_id} tenant={self.tenant_id}>"


class ChatGrant(db.Model):
    """A member's access to one paid chat: one row per member and chat, following their subscriptions."""

    __tablename__ = "chat_grants"
    __table_args__ = (
        one_of("state", [s.value for s in GrantState], "chat_grant_state"),
        sa.UniqueConstraint("member_id", "paid_chat_id", name="uq_chat_grants_member_chat"),
        sa.Index("ix_chat_grants_tenant_chat_state", "tenant_id", "paid_chat_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    paid_chat_id: Mapped[int] = mapped_column(sa.ForeignKey("paid_chats.id", ondelete="CASCADE"))
    #: The subscription that gave (or last gave) the access.
    subscription_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("subscriptions.id", ondelete="SET NULL"),
                                                           index=True)
    state: Mapped[str] = mapped_column(sa.String(10), default=GrantState.INVITED.value)
    #: The single-use invite link made for this member (None until the outbox made it).
    invite_link: Mapped[Optional[str]] = mapped_column(sa.String(255), index=True)
    #: Bumped on every change; names the outbox message that carries it out.
    version: Mapped[int] = mapped_column(default=0)
    joined_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    removed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    last_error: Mapped[Optional[str]] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member = relationship("Member")
    chat: Mapped[PaidChat] = relationship()
    subscription = relationship("Subscription")


class ChatPresence(db.Model):
    """Who we saw in a paid chat (from chat_member updates): what the reconciliation compares with grants."""

    __tablename__ = "chat_presences"
    __table_args__ = (sa.UniqueConstraint("paid_chat_id", "telegram_id", name="uq_chat_presences_chat_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    paid_chat_id: Mapped[int] = mapped_column(sa.ForeignKey("paid_chats.id", ondelete="CASCADE"))
    telegram_id: Mapped[int] = mapped_column(sa.BigInteger)
    #: Telegram's ChatMember status: creator, administrator, member, restricted, left, kicked.
    status: Mapped[str] = mapped_column(sa.String(20))
    #: The invite link they joined by, when Telegram said.
    via_link: Mapped[Optional[str]] = mapped_column(sa.String(255))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def inside(self) -> bool:
        return self.status in ("member", "restricted")


class StarPayment(db.Model):
    """One payment in Telegram Stars (a purchase or a Stars-subscription renewal), and its refund."""

    __tablename__ = "star_payments"
    __table_args__ = (
        one_of("status", [s.value for s in StarPaymentStatus], "star_payment_status"),
        sa.Index("ix_star_payments_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    bot_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("bots.id", ondelete="SET NULL"))
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id", ondelete="RESTRICT"))
    subscription_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("subscriptions.id", ondelete="SET NULL"),
                                                           index=True)
    #: Telegram's id of the charge: one sale per charge however often the update arrives.
    telegram_payment_charge_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    #: Stars paid.
    amount: Mapped[int] = mapped_column()
    #: A renewal of a Stars subscription (successful_payment with is_recurring, not the first one).
    is_renewal: Mapped[bool] = mapped_column(default=False)
    #: A Stars subscription (subscription_period set): the charge that started it renews by itself.
    is_recurring: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(sa.String(10), default=StarPaymentStatus.PAID.value)
    refunded_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    refunded_by: Mapped[Optional[str]] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member = relationship("Member")
    plan = relationship("Plan")
