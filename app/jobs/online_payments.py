"""Zarinpal reconciliation: payments whose callback never arrived (closed tab, lost network) get verified.

Per tenant, in the tenant's own transaction: the gateway's unVerified.json list is read for each merchant the
tenant's pending payments went to (the tenant's own, or the platform's for wallet top-ups), each listed
payment is verified with our amount, and pending payments the gateway does not list after two hours are
marked failed. See app.services.payments.settlement for the locking.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.models import OnlinePayment, OnlinePaymentStatus, Tenant
from app.services.payments import settlement


def reconcile_online_payments(tenant: Tenant, now: datetime) -> None:
    """A job step; tenants without a pending payment cost one indexed query and no gateway call."""
    has_pending = db.session.scalar(sa.select(OnlinePayment.id).where(
        OnlinePayment.tenant_id == tenant.id, OnlinePayment.status == OnlinePaymentStatus.PENDING.value).limit(1))
    if has_pending is not None:
        settlement.reconcile_tenant(tenant, now)
