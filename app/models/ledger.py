"""The ledger: every change of a member balance or a tenant wallet."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import Money, UTCDateTime, one_of, utcnow


class LedgerAccount(str, enum.Enum):
    MEMBER_BALANCE = "member_balance"
    TENANT_WALLET = "tenant_wallet"


_PURCHASES = "account = 'member_balance' AND kind = 'purchase'"


class LedgerEntry(db.Model):
    """One signed movement of Toman, written in the same transaction as the balance it moves."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        one_of("account", [a.value for a in LedgerAccount], "account"),
        sa.CheckConstraint("amount <> 0", name="amount_nonzero"),
        sa.CheckConstraint(
            "(account = 'member_balance') = (member_id IS NOT NULL)", name="member_iff_member_balance"
        ),
        sa.UniqueConstraint("tenant_id", "idempotency_key"),
        sa.Index("ix_ledger_entries_tenant_member_created", "tenant_id", "member_id", "created_at"),
        sa.Index("ix_ledger_entries_tenant_account_created", "tenant_id", "account", "created_at"),
        # The overview's balance sales of the day (app.services.overview.balance_sales_query).
        sa.Index("ix_ledger_entries_tenant_purchases", "tenant_id", "created_at", postgresql_include=["amount"],
                 postgresql_where=sa.text(_PURCHASES), sqlite_where=sa.text(_PURCHASES)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    member_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"))
    account: Mapped[str] = mapped_column(sa.String(20))
    #: Signed Toman: positive credits, negative debits.
    amount: Mapped[int] = mapped_column(Money)
    #: The balance of that account right after this entry.
    balance_after: Mapped[int] = mapped_column(Money)
    #: What happened: topup, purchase, adjustment, promocode, referral_bonus, wholesale, wallet_topup, ...
    kind: Mapped[str] = mapped_column(sa.String(32))
    ref_type: Mapped[Optional[str]] = mapped_column(sa.String(32))
    ref_id: Mapped[Optional[int]] = mapped_column(sa.BigInteger)
    #: A repeated key returns the first entry and moves nothing.
    idempotency_key: Mapped[str] = mapped_column(sa.String(128))
    note: Mapped[Optional[str]] = mapped_column(sa.String(500))
    #: Who caused it, e.g. account:3, telegram:12345, system.
    actor: Mapped[Optional[str]] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<LedgerEntry {self.id} {self.account} {self.amount:+d} -> {self.balance_after}>"
