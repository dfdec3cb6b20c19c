"""Payment cards members transfer to, and the receipts of those transfers."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import Money, UTCDateTime, one_of, utcnow


class ReceiptStatus(str, enum.Enum):
    AWAITING_RECEIPT = "awaiting_receipt"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


OPEN_RECEIPT_STATUSES = (ReceiptStatus.AWAITING_RECEIPT.value, ReceiptStatus.PENDING_REVIEW.value)


class ReceiptPurpose(str, enum.Enum):
    TOPUP = "topup"
    PLAN = "plan"


class PaymentCard(db.Model):
    """A bank card that receives card-to-card transfers."""

    __tablename__ = "payment_cards"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "card_number"),
        sa.CheckConstraint("weight >= 0", name="weight_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    #: 16 digits, Luhn-valid, no separators.
    card_number: Mapped[str] = mapped_column(sa.String(16))
    holder_name: Mapped[str] = mapped_column(sa.String(120))
    bank_name: Mapped[str] = mapped_column(sa.String(80))
    #: The account behind the card (digits, segments joined by '-'): deposit SMS often name the account, not the card.
    account_number: Mapped[Optional[str]] = mapped_column(sa.String(34))
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Share of invoices under the weighted strategy.
    weight: Mapped[int] = mapped_column(default=1)
    #: Toman the card may receive in one tenant-local day; None means no cap.
    daily_cap: Mapped[Optional[int]] = mapped_column(Money)
    #: Approved Toman on received_day.
    received_today: Mapped[int] = mapped_column(Money, default=0)
    received_day: Mapped[Optional[date]] = mapped_column(sa.Date)
    times_shown: Mapped[int] = mapped_column(default=0)
    approved_count: Mapped[int] = mapped_column(default=0)
    rejected_count: Mapped[int] = mapped_column(default=0)
    last_shown_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def masked_number(self) -> str:
        return f"{self.card_number[:4]} **** **** {self.card_number[-4:]}"

    def __repr__(self) -> str:
        return f"<PaymentCard {self.id} {self.masked_number} tenant={self.tenant_id}>"


class Receipt(db.Model):
    """A card-to-card invoice and, once sent, the member's proof of transfer and its review."""

    __tablename__ = "receipts"
    __table_args__ = (
        one_of("status", [s.value for s in ReceiptStatus], "status"),
        one_of("purpose", [p.value for p in ReceiptPurpose], "purpose"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.Index(
            "uq_receipts_one_open_per_member",
            "tenant_id",
            "member_id",
            unique=True,
            postgresql_where=sa.text("status IN ('awaiting_receipt', 'pending_review')"),
            sqlite_where=sa.text("status IN ('awaiting_receipt', 'pending_review')"),
        ),
        sa.Index("ix_receipts_tenant_status_submitted", "tenant_id", "status", "submitted_at"),
        sa.Index("ix_receipts_tenant_member", "tenant_id", "member_id"),
        sa.Index("ix_receipts_status_expires_at", "status", "expires_at"),
        # Decided receipts newest first, and today's approved revenue.
        sa.Index("ix_receipts_tenant_reviewed_at", "tenant_id", "reviewed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    bot_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("bots.id", ondelete="SET NULL"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"))
    card_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("payment_cards.id", ondelete="SET NULL"), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(10))
    plan_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("plans.id", ondelete="RESTRICT"), index=True)
    #: Toman the member was asked to transfer (or, once approved, what was credited).
    amount: Mapped[int] = mapped_column(Money)
    #: Short code people read aloud, e.g. C2C-7K3M9Q.
    tracking_code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    status: Mapped[str] = mapped_column(sa.String(20), default=ReceiptStatus.AWAITING_RECEIPT.value)
    telegram_file_id: Mapped[Optional[str]] = mapped_column(sa.String(256))
    #: The member's text (a transfer reference) or photo caption.
    text: Mapped[Optional[str]] = mapped_column(sa.Text)
    #: Path under the instance folder of the downloaded receipt photo.
    photo_path: Mapped[Optional[str]] = mapped_column(sa.String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reviewed_by_account_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("accounts.id", ondelete="SET NULL"))
    reviewed_by_telegram_id: Mapped[Optional[int]] = mapped_column(sa.BigInteger)
    reviewed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    reject_reason: Mapped[Optional[str]] = mapped_column(sa.String(500))
    #: Chat and message ids of the admin-chat copies, so a decision can edit them.
    admin_messages: Mapped[Optional[list]] = mapped_column(sa.JSON)

    member = relationship("Member")
    bot = relationship("Bot")
    card: Mapped[Optional[PaymentCard]] = relationship()
    plan = relationship("Plan")
    reviewed_by_account = relationship("Account")

    def __repr__(self) -> str:
        return f"<Receipt {self.id} {self.tracking_code} {self.status} tenant={self.tenant_id}>"
