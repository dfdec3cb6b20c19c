"""The platform's own cards and the card-to-card receipts tenants send to top up their wallet.

The same receipt life as a member's (app/services/receipts.py), one level up: a tenant owner uploads the
receipt image (pending_review), a platform admin approves it (the tenant wallet is credited once) or rejects it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.payments import ReceiptStatus
from app.models.types import Money, UTCDateTime, one_of, utcnow

#: The states a platform receipt takes (it is created with its image, so it never awaits one).
PLATFORM_RECEIPT_STATUSES = (ReceiptStatus.PENDING_REVIEW.value, ReceiptStatus.APPROVED.value,
                             ReceiptStatus.REJECTED.value, ReceiptStatus.CANCELLED.value)


class PlatformCard(db.Model):
    """A bank card of the platform that tenants transfer wallet top-ups to (not a tenant's row)."""

    __tablename__ = "platform_cards"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 16 digits, Luhn-valid, no separators.
    card_number: Mapped[str] = mapped_column(sa.String(16), unique=True)
    holder_name: Mapped[str] = mapped_column(sa.String(120))
    bank_name: Mapped[str] = mapped_column(sa.String(80))
    #: The account behind the card (digits, segments joined by '-'), as the bank's SMS names it.
    account_number: Mapped[Optional[str]] = mapped_column(sa.String(34))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def masked_number(self) -> str:
        return f"{self.card_number[:4]} **** **** {self.card_number[-4:]}"

    @property
    def grouped_number(self) -> str:
        """The full number in groups of four, as a tenant copies it into a banking app."""
        return " ".join(self.card_number[i:i + 4] for i in range(0, 16, 4))


class PlatformReceipt(db.Model):
    """A tenant's transfer to a platform card, with its image, waiting for (or after) a platform admin's review."""

    __tablename__ = "platform_receipts"
    __table_args__ = (
        one_of("status", PLATFORM_RECEIPT_STATUSES, "status"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        #: One receipt under review per tenant at a time.
        sa.Index("uq_platform_receipts_one_pending_per_tenant", "tenant_id", unique=True,
                 postgresql_where=sa.text("status = 'pending_review'"),
                 sqlite_where=sa.text("status = 'pending_review'")),
        sa.Index("ix_platform_receipts_status_submitted", "status", "submitted_at"),
        sa.Index("ix_platform_receipts_tenant_id", "tenant_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    card_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("platform_cards.id", ondelete="SET NULL"))
    #: Toman the owner says they transferred (once approved: what was credited).
    amount: Mapped[int] = mapped_column(Money)
    #: e.g. TOP-7K3M9Q.
    tracking_code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    status: Mapped[str] = mapped_column(sa.String(20), default=ReceiptStatus.PENDING_REVIEW.value)
    #: Path under the instance folder of the uploaded image.
    photo_path: Mapped[Optional[str]] = mapped_column(sa.String(256))
    #: The owner's note (a transfer reference number).
    text: Mapped[Optional[str]] = mapped_column(sa.String(500))
    submitted_by_account_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("accounts.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by_account_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("accounts.id", ondelete="SET NULL"))
    reviewed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    reject_reason: Mapped[Optional[str]] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tenant = relationship("Tenant")
    card: Mapped[Optional[PlatformCard]] = relationship()
    submitted_by = relationship("Account", foreign_keys=[submitted_by_account_id])
    reviewed_by = relationship("Account", foreign_keys=[reviewed_by_account_id])

    def __repr__(self) -> str:
        return f"<PlatformReceipt {self.id} {self.tracking_code} {self.status} tenant={self.tenant_id}>"
