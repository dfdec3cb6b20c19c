"""Online (gateway) payments: a member paying a tenant through Zarinpal, or a tenant paying the platform."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import Money, UTCDateTime, one_of, utcnow


class OnlinePaymentStatus(str, enum.Enum):
    #: Authority issued, the payer is (maybe) on the gateway's page.
    PENDING = "pending"
    #: Verified with the gateway and credited (once).
    PAID = "paid"
    #: Cancelled on the gateway, refused by verify, or never paid.
    FAILED = "failed"


class OnlinePaymentPurpose(str, enum.Enum):
    #: The member's balance.
    TOPUP = "topup"
    #: The member's balance, then the plan bought from it.
    PLAN = "plan"
    #: The tenant's wallet with the platform (the owner pays the platform's merchant).
    WALLET = "wallet"


class OnlinePayment(db.Model):
    """One gateway payment, from the authority the gateway issued to the verified ref id."""

    __tablename__ = "online_payments"
    __table_args__ = (
        one_of("status", [s.value for s in OnlinePaymentStatus], "status"),
        one_of("purpose", [p.value for p in OnlinePaymentPurpose], "purpose"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.Index("ix_online_payments_status_created", "status", "created_at"),
        sa.Index("ix_online_payments_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    #: The paying member; None for a tenant wallet top-up.
    member_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    bot_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("bots.id", ondelete="SET NULL"))
    #: The dashboard account that started a wallet top-up.
    account_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("accounts.id", ondelete="SET NULL"))
    purpose: Mapped[str] = mapped_column(sa.String(10))
    plan_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("plans.id", ondelete="RESTRICT"))
    #: Toman; the gateway is asked for (and verified with) amount × 10 Rial.
    amount: Mapped[int] = mapped_column(Money)
    gateway: Mapped[str] = mapped_column(sa.String(16), default="zarinpal")
    #: Our order id, sent as metadata.order_id, e.g. ZP-7K3M9Q.
    order_code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    #: The gateway's id of this payment (36 characters for Zarinpal).
    authority: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The gateway's tracking number once verified.
    ref_id: Mapped[Optional[str]] = mapped_column(sa.String(32), unique=True)
    card_pan: Mapped[Optional[str]] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(10), default=OnlinePaymentStatus.PENDING.value)
    #: The gateway code of the last refusal, and why it failed in words.
    failure_code: Mapped[Optional[int]] = mapped_column()
    failure_reason: Mapped[Optional[str]] = mapped_column(sa.String(200))
    #: "callback" or "reconcile": which path verified it.
    verified_by: Mapped[Optional[str]] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    failed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    member = relationship("Member")
    bot = relationship("Bot")
    plan = relationship("Plan")
    tenant = relationship("Tenant")

    @property
    def amount_rial(self) -> int:
        return self.amount * 10

    def __repr__(self) -> str:
        return f"<OnlinePayment {self.id} {self.order_code} {self.status} tenant={self.tenant_id}>"
