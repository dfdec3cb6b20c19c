"""Support tickets: a member's conversation with the tenant's staff, in the bot, the dashboard and the admin chat."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, one_of, utcnow


class TicketStatus(str, enum.Enum):
    #: The member wrote last; staff owe an answer.
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


class Ticket(db.Model):
    __tablename__ = "tickets"
    __table_args__ = (
        one_of("status", [s.value for s in TicketStatus], "status"),
        # The inbox: a tenant's tickets of one status, longest waiting first.
        sa.Index("ix_tickets_tenant_status_waiting", "tenant_id", "status", "waiting_since", "id"),
        sa.Index("ix_tickets_tenant_member_created", "tenant_id", "member_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"))
    #: The bot the member wrote through; answers go back through it.
    bot_id: Mapped[int] = mapped_column(sa.ForeignKey("bots.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(sa.String(10), default=TicketStatus.OPEN.value)
    #: The start of the member's first message, for lists.
    subject: Mapped[str] = mapped_column(sa.String(120))
    assignee_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("accounts.id", ondelete="SET NULL"))
    #: Since when the member waits for an answer (None once answered or closed).
    waiting_since: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: The last staff answer, from which auto-close counts.
    answered_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    closed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    member = relationship("Member")
    bot = relationship("Bot")
    assignee = relationship("Account")
    messages: Mapped[list[TicketMessage]] = relationship(order_by="TicketMessage.id", back_populates="ticket")


class TicketMessage(db.Model):
    __tablename__ = "ticket_messages"
    __table_args__ = (
        one_of("author", ["member", "staff"], "author"),
        sa.Index("ix_ticket_messages_ticket", "ticket_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"))
    #: member or staff.
    author: Mapped[str] = mapped_column(sa.String(10))
    #: The staff account that answered (None for the member, the admin chat or the API).
    account_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("accounts.id", ondelete="SET NULL"))
    #: bot, dashboard, admin_chat or api.
    via: Mapped[str] = mapped_column(sa.String(12))
    text: Mapped[Optional[str]] = mapped_column(sa.Text)
    #: The photo in the bot that received it (Telegram file id) and our re-encoded copy (instance-relative).
    photo_file_id: Mapped[Optional[str]] = mapped_column(sa.String(200))
    photo_path: Mapped[Optional[str]] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")


class TicketCopy(db.Model):
    """A copy of a member's ticket message in an admin chat: a reply to it answers the ticket."""

    __tablename__ = "ticket_copies"
    __table_args__ = (sa.UniqueConstraint("bot_id", "chat_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    bot_id: Mapped[int] = mapped_column(sa.ForeignKey("bots.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(sa.BigInteger)
    message_id: Mapped[int] = mapped_column(sa.BigInteger)
