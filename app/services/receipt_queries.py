"""The receipt queue and history the dashboard shows; each returns a SELECT the EXPLAIN test can read."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.models import Receipt, ReceiptStatus, Tenant
from app.services.overview import day_start_utc

PAGE_SIZE = 100
DECIDED = (ReceiptStatus.APPROVED.value, ReceiptStatus.REJECTED.value)


@dataclass
class ReceiptFilter:
    status: str = ReceiptStatus.PENDING_REVIEW.value
    bot_id: int | None = None
    card_id: int | None = None
    day_from: date | None = None
    day_to: date | None = None
    tracking_code: str = ""


def queue_query(tenant: Tenant, f: ReceiptFilter) -> sa.Select:
    """Receipts of one status, oldest first (by submission, then creation for unsubmitted ones)."""
    query = _filtered(tenant, f).where(Receipt.status == f.status)
    if f.status == ReceiptStatus.PENDING_REVIEW.value:
        query = query.order_by(Receipt.submitted_at, Receipt.id)
    else:
        query = query.order_by(Receipt.id)
    return _loaded(query.limit(PAGE_SIZE))


def history_query(tenant: Tenant, f: ReceiptFilter) -> sa.Select:
    """Decided receipts, most recent decision first, with who decided."""
    query = _filtered(tenant, f).where(Receipt.reviewed_at.is_not(None))
    if f.status in DECIDED:
        query = query.where(Receipt.status == f.status)
    return _loaded(query.order_by(Receipt.reviewed_at.desc(), Receipt.id.desc()).limit(PAGE_SIZE))


def tracking_code_query(tenant: Tenant, code: str) -> sa.Select:
    return _loaded(sa.select(Receipt).where(Receipt.tenant_id == tenant.id,
                                            Receipt.tracking_code == code.strip().upper()))


def _filtered(tenant: Tenant, f: ReceiptFilter) -> sa.Select:
    query = sa.select(Receipt).where(Receipt.tenant_id == tenant.id)
    if f.bot_id:
        query = query.where(Receipt.bot_id == f.bot_id)
    if f.card_id:
        query = query.where(Receipt.card_id == f.card_id)
    if f.day_from:
        query = query.where(Receipt.created_at >= day_start_utc(tenant, f.day_from))
    if f.day_to:
        query = query.where(Receipt.created_at < day_start_utc(tenant, f.day_to + timedelta(days=1)))
    return query


def _loaded(query: sa.Select) -> sa.Select:
    return query.options(selectinload(Receipt.member), selectinload(Receipt.plan), selectinload(Receipt.card),
                         selectinload(Receipt.bot), selectinload(Receipt.reviewed_by_account))
