"""What identifies a receipt's proof, so a photo or transfer reference used before is noticed."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class ReceiptFingerprint(db.Model):
    """One receipt's image and reference fingerprints, and the earlier receipt it repeats (if any)."""

    __tablename__ = "receipt_fingerprints"
    __table_args__ = (
        sa.Index("ix_receipt_fingerprints_tenant_file", "tenant_id", "file_unique_id"),
        sa.Index("ix_receipt_fingerprints_tenant_reference", "tenant_id", "reference"),
        sa.Index("ix_receipt_fingerprints_tenant_id_id", "tenant_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    receipt_id: Mapped[int] = mapped_column(sa.ForeignKey("receipts.id", ondelete="CASCADE"), unique=True)
    #: Telegram's file_unique_id of the photo: the same file forwarded again keeps it.
    file_unique_id: Mapped[Optional[str]] = mapped_column(sa.String(128))
    #: imagehash.phash (64 bits, 16 hex digits) of the image.
    phash: Mapped[Optional[str]] = mapped_column(sa.String(16))
    #: A 144×256 grayscale PNG of the image, compared pixel by pixel when the phash is near.
    thumbnail: Mapped[Optional[bytes]] = mapped_column(sa.LargeBinary)
    #: The transfer reference number found in the member's text or caption (digits only).
    reference: Mapped[Optional[str]] = mapped_column(sa.String(20))
    #: The earlier receipt of the tenant this one repeats, and how: same_file, same_image, same_reference.
    duplicate_of_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("receipts.id", ondelete="SET NULL"))
    duplicate_reason: Mapped[Optional[str]] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    duplicate_of = relationship("Receipt", foreign_keys=[duplicate_of_id])

    @property
    def flagged(self) -> bool:
        return self.duplicate_reason is not None
