"""Deposit SMS the tenant's bank sent (forwarded by an app on the owner's phone, or pasted in the dashboard)."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import Money, UTCDateTime, one_of, utcnow


class BankMessageStatus(str, enum.Enum):
    #: Parsed, matched exactly one open invoice, and that invoice was approved.
    APPROVED = "approved"
    #: Parsed, exactly one candidate, waiting for a person (tenant setting suggest, or a flagged receipt).
    SUGGESTED = "suggested"
    #: Parsed, but no open invoice or several match: a person decides.
    UNMATCHED = "unmatched"
    #: Not a deposit we can read (withdrawal, OTP, advert, unknown format): kept with the reason.
    REFUSED = "refused"


class BankMessage(db.Model):
    __tablename__ = "bank_messages"
    __table_args__ = (
        one_of("status", [s.value for s in BankMessageStatus], "status"),
        #: The same SMS twice is one row.
        sa.UniqueConstraint("tenant_id", "digest", name="uq_bank_messages_tenant_digest"),
        sa.Index("ix_bank_messages_tenant_status_id", "tenant_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    sender: Mapped[str] = mapped_column(sa.String(64))
    text: Mapped[str] = mapped_column(sa.Text)
    #: When the phone received it (as reported), else when we did.
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: sha256 of the normalized sender and text.
    digest: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(10))
    reason: Mapped[Optional[str]] = mapped_column(sa.String(200))
    bank: Mapped[Optional[str]] = mapped_column(sa.String(20))
    #: Toman deposited, the account/card tail and the time the SMS states.
    amount: Mapped[Optional[int]] = mapped_column(Money)
    tail: Mapped[Optional[str]] = mapped_column(sa.String(4))
    #: "card" or "account": what the tail belongs to, when the SMS says (matching compares it with that number).
    tail_kind: Mapped[Optional[str]] = mapped_column(sa.String(10))
    deposited_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: The invoice it approved or suggests.
    receipt_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("receipts.id", ondelete="SET NULL"))
    #: "api:<token id>", "account:<id>".
    source: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    receipt = relationship("Receipt")
