"""Broadcasts: one message to a segment of a tenant's members, through some of its bots, each at most once."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, one_of, utcnow


class BroadcastStatus(str, enum.Enum):
    #: Composed, counted and previewed; nothing is sent until it is confirmed.
    DRAFT = "draft"
    SENDING = "sending"
    #: Confirmed, held by the owner: queued recipients wait (status held) until it is resumed.
    PAUSED = "paused"
    DONE = "done"
    CANCELLED = "cancelled"


class DeliveryStatus(str, enum.Enum):
    #: An outbox row (broadcast.send) will deliver it.
    QUEUED = "queued"
    #: Telegram has the whole request (bots/committed_send.py). Found so by a later run (the worker died before
    #: the answer): sent, "unconfirmed", never sent again.
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    #: The member blocked the bot (Telegram's 403), or has no reachable session with the chosen bots.
    BLOCKED = "blocked"
    #: Its send ran while the broadcast was paused; queued again (with a new outbox row) on resume.
    HELD = "held"
    CANCELLED = "cancelled"


#: A delivery in one of these states is over: nothing will change it again.
FINAL_DELIVERY_STATES = (DeliveryStatus.SENT.value, DeliveryStatus.FAILED.value, DeliveryStatus.BLOCKED.value,
                         DeliveryStatus.CANCELLED.value)


class Broadcast(db.Model):
    """A message sent to a segment of a tenant's members through one or more of its bots."""

    __tablename__ = "broadcasts"
    __table_args__ = (one_of("status", [s.value for s in BroadcastStatus], "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    #: The first chosen bot (kept for older readers); `bot_ids` is the whole choice.
    bot_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("bots.id", ondelete="SET NULL"))
    #: The bots it goes through; a member with sessions on several gets it once, through the one used last.
    bot_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list, server_default="[]")
    #: The segment (app.services.broadcasts.segments.Segment as a dict).
    segment: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict, server_default="{}")
    #: The text for every language without its own entry in `texts`.
    text: Mapped[str] = mapped_column(sa.Text)
    #: Per-language texts ({"en": "..."}), optional.
    texts: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict, server_default="{}")
    #: An optional photo (sent with the text as its caption); uploaded once per bot, then by file_id.
    photo: Mapped[Optional[bytes]] = deferred(mapped_column(sa.LargeBinary))
    #: Telegram's file_id of the uploaded photo, per bot id (a file_id is valid for its bot only).
    photo_file_ids: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict, server_default="{}")
    #: One optional URL button under the message.
    button_text: Mapped[Optional[str]] = mapped_column(sa.String(64))
    button_url: Mapped[Optional[str]] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(sa.String(10), default=BroadcastStatus.DRAFT.value)
    #: Recipients: the segment's count when confirmed, the exact number once every delivery row exists.
    total_count: Mapped[int] = mapped_column(default=0)
    #: Final tallies, written when it ends (live figures are counted from the delivery rows).
    sent_count: Mapped[int] = mapped_column(default=0)
    failed_count: Mapped[int] = mapped_column(default=0)
    blocked_count: Mapped[int] = mapped_column(default=0, server_default="0")
    #: The fan-out's cursor: delivery rows exist for every recipient with member id <= this.
    cursor_member_id: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    #: Every recipient has its delivery row.
    fanned_out: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: Bumped by every resume: only the pump of the current generation works.
    generation: Mapped[int] = mapped_column(default=0, server_default="0")
    created_by_account_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    def text_for(self, language: str) -> str:
        return (self.texts or {}).get(language) or self.text

    def __repr__(self) -> str:
        return f"<Broadcast {self.id} {self.status}>"


class BroadcastDelivery(db.Model):
    """One recipient of a broadcast: written once (unique per member), so nobody gets it twice."""

    __tablename__ = "broadcast_deliveries"
    __table_args__ = (
        one_of("status", [s.value for s in DeliveryStatus], "status"),
        sa.UniqueConstraint("broadcast_id", "member_id"),
        sa.Index("ix_broadcast_deliveries_broadcast_status", "broadcast_id", "status"),
        sa.Index("ix_broadcast_deliveries_broadcast_sent_at", "broadcast_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    broadcast_id: Mapped[int] = mapped_column(sa.ForeignKey("broadcasts.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    #: The bot it goes through (the member's most recent session among the chosen bots).
    bot_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("bots.id", ondelete="SET NULL"))
    chat_id: Mapped[int] = mapped_column(sa.BigInteger)
    language: Mapped[str] = mapped_column(sa.String(8))
    status: Mapped[str] = mapped_column(sa.String(10), default=DeliveryStatus.QUEUED.value)
    #: Times it was queued (part of its outbox key, so a resume writes a new row).
    tries: Mapped[int] = mapped_column(default=1)
    message_id: Mapped[Optional[int]] = mapped_column(sa.BigInteger)
    error: Mapped[Optional[str]] = mapped_column(sa.String(300))
    sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
