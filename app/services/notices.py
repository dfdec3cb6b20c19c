"""Alerts for a tenant's owner (e.g. a sale the wallet could not cover), shown until dismissed."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Tenant, TenantNotice
from app.services import clock
from app.services.lookup import get_owned


def unread(tenant: Tenant, limit: int = 20) -> list[TenantNotice]:
    return list(db.session.scalars(
        sa.select(TenantNotice).where(TenantNotice.tenant_id == tenant.id, TenantNotice.read_at.is_(None))
        .order_by(TenantNotice.id.desc()).limit(limit)))


def dismiss(tenant: Tenant, notice_id: int) -> TenantNotice:
    notice = get_owned(TenantNotice, tenant, notice_id, "No such notice.")
    notice.read_at = notice.read_at or clock.now()
    db.session.flush()
    return notice
