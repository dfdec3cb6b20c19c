"""The receipt queue and history the dashboard shows; each returns a SELECT the EXPLAIN test can read."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.extensions import db
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


def queue_query(tenant: Tenant, f: ReceiptFilter, *, after_id: int | None = None,
                limit: int = PAGE_SIZE) -> sa.Select:
    """Receipts of one status, oldest first (by submission, then creation for unsubmitted ones),
    `limit` rows after the receipt `after_id` (keyset pagination)."""
    query = _filtered(tenant, f).where(Receipt.status == f.status)
    if f.status == ReceiptStatus.PENDING_REVIEW.value:
        order = (Receipt.submitted_at, Receipt.id)
        if after_id:
            query = query.where(sa.tuple_(*order) > _cursor(tenant, after_id, Receipt.submitted_at))
    else:
        order = (Receipt.id,)
        if after_id:
            query = query.where(Receipt.id > after_id)
    return _loaded(query.order_by(*order).limit(limit))


def history_query(tenant: Tenant, f: ReceiptFilter, *, after_id: int | None = None,
                  limit: int = PAGE_SIZE) -> sa.Select:
    """Decided receipts, most recent decision first, with who decided; `limit` rows after `after_id`."""
    query = _filtered(tenant, f).where(Receipt.reviewed_at.is_not(None))
    if f.status in DECIDED:
        query = query.where(Receipt.status == f.status)
    if after_id:
        query = query.where(sa.tuple_(Receipt.reviewed_at, Receipt.id) < _cursor(tenant, after_id, Receipt.reviewed_at))
    return _loaded(query.order_by(Receipt.reviewed_at.desc(), Receipt.id.desc()).limit(limit))


def page(tenant: Tenant, f: ReceiptFilter, query_of, after_id: int | None = None) -> tuple[list[Receipt], int | None]:
    """One page of `query_of` (queue_query or history_query) and the cursor of the next page (None on the last)."""
    rows = list(db.session.scalars(query_of(tenant, f, after_id=after_id, limit=PAGE_SIZE + 1)))
    return rows[:PAGE_SIZE], rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None


def _cursor(tenant: Tenant, receipt_id: int, column) -> sa.Tuple:
    """(column, id) of the receipt a page ends with, read in the same statement (this tenant's only)."""
    where = (Receipt.id == receipt_id, Receipt.tenant_id == tenant.id)
    return sa.tuple_(sa.select(column).where(*where).scalar_subquery(),
                     sa.select(Receipt.id).where(*where).scalar_subquery())


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
