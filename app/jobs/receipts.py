"""Stale receipts: awaiting or pending past the tenant's timeout become expired; the member is told once.

Expiring is the money service's (`app.services.receipts.expire_stale`). The member is told about exactly
the receipts that went from open to expired in this transaction.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.jobs.runner import Notice
from app.models import OPEN_RECEIPT_STATUSES, Receipt, ReceiptStatus, Tenant
from app.services import receipts

EXPIRED = ReceiptStatus.EXPIRED.value


def expire_stale_receipts(tenant: Tenant, now: datetime) -> list[Notice]:
    """A job step: expire the tenant's stale receipts and collect one notice per expired receipt."""
    open_ids = db.session.scalars(
        sa.select(Receipt.id).where(Receipt.tenant_id == tenant.id, Receipt.status.in_(OPEN_RECEIPT_STATUSES))
    ).all()
    if not open_ids:
        return []
    receipts.expire_stale(tenant, now=now)
    expired = db.session.execute(
        sa.select(Receipt.id, Receipt.member_id, Receipt.tracking_code, Receipt.amount)
        .where(Receipt.id.in_(open_ids), Receipt.status == EXPIRED)
        .execution_options(populate_existing=True)
    ).all()
    return [Notice(r.member_id, "receipt_expired",
                   {"receipt_id": r.id, "tracking_code": r.tracking_code, "amount": r.amount}) for r in expired]
