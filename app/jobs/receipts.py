"""Stale receipts: awaiting or pending past the tenant's timeout become expired; the member is told once.

Expiring is the money service's (`app.services.receipts.expire_stale`); until it exists here a
one-statement fallback expires open receipts past `expires_at`. The member is told about exactly the
receipts that went from open to expired in this transaction, whichever function expired them.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.jobs.runner import Notice
from app.models import OPEN_RECEIPT_STATUSES, Receipt, ReceiptStatus, Tenant

EXPIRED = ReceiptStatus.EXPIRED.value


def expire_stale_receipts(tenant: Tenant, now: datetime) -> list[Notice]:
    """A job step: expire the tenant's stale receipts and collect one notice per expired receipt."""
    open_ids = db.session.scalars(
        sa.select(Receipt.id).where(Receipt.tenant_id == tenant.id, Receipt.status.in_(OPEN_RECEIPT_STATUSES))
    ).all()
    if not open_ids:
        return []
    expire_stale(tenant, now, open_ids)
    expired = db.session.execute(
        sa.select(Receipt.id, Receipt.member_id, Receipt.tracking_code, Receipt.amount)
        .where(Receipt.id.in_(open_ids), Receipt.status == EXPIRED)
        .execution_options(populate_existing=True)
    ).all()
    return [Notice(r.member_id, "receipt_expired",
                   {"receipt_id": r.id, "tracking_code": r.tracking_code, "amount": r.amount}) for r in expired]


def expire_stale(tenant: Tenant, now: datetime, open_ids: list[int]) -> None:
    """Expire the stale ones among `open_ids` through the money service, or the fallback."""
    try:
        from app.services.receipts import expire_stale as service_expire_stale
    except ImportError:
        service_expire_stale = None
    if service_expire_stale is not None:
        service_expire_stale(tenant, now=now)
        return
    db.session.execute(
        sa.update(Receipt)
        .where(Receipt.id.in_(open_ids), Receipt.status.in_(OPEN_RECEIPT_STATUSES), Receipt.expires_at <= now)
        .values(status=EXPIRED),
        execution_options={"synchronize_session": False},
    )

