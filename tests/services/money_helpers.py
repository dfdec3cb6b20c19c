"""Helpers shared by the money tests."""
from __future__ import annotations

import sqlalchemy as sa

from app.models import AuditLog, LedgerEntry, Member, Receipt, Subscription, Tenant, TenantNotice


def count(db, model, **where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**where))


def entries_sum(db, **where) -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0)).filter_by(**where))


def snapshot(db, tenant_id: int) -> dict:
    """Everything money writes for a tenant, to prove a refusal wrote nothing."""
    db.session.expire_all()
    tenant = db.session.get(Tenant, tenant_id)
    return {
        "entries": count(db, LedgerEntry, tenant_id=tenant_id),
        "receipts": sorted((r.id, r.status, r.amount) for r in db.session.scalars(
            sa.select(Receipt).where(Receipt.tenant_id == tenant_id))),
        "subscriptions": sorted((s.id, s.ends_at, s.status) for s in db.session.scalars(
            sa.select(Subscription).where(Subscription.tenant_id == tenant_id))),
        "balances": sorted(db.session.execute(sa.select(Member.id, Member.balance, Member.total_xp)
                                              .where(Member.tenant_id == tenant_id)).all()),
        "wallet": (tenant.wallet_balance, tenant.traffic_sold_bytes),
        "audit": count(db, AuditLog, tenant_id=tenant_id),
        "notices": count(db, TenantNotice, tenant_id=tenant_id),
    }


def assert_books_balance(db) -> None:
    """Every member balance and every wallet equals the sum of its ledger entries and stays in bounds."""
    db.session.expire_all()
    for member in db.session.scalars(sa.select(Member)):
        assert member.balance >= 0
        assert member.balance == entries_sum(db, member_id=member.id, account="member_balance"), member
    for tenant in db.session.scalars(sa.select(Tenant)):
        assert tenant.wallet_balance >= -tenant.wallet_credit_limit
        assert tenant.wallet_balance == entries_sum(db, tenant_id=tenant.id, account="tenant_wallet"), tenant
