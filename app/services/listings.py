"""Small per-tenant lists the dashboard shows (plans, bots, audit log); promo codes: app/services/promocodes.py."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditLog, Bot, Plan, Tenant

AUDIT_PAGE_SIZE = 100


def plans_of_tenant(tenant: Tenant) -> list[Plan]:
    """Every plan, on sale first in the owner's order, archived last."""
    return list(db.session.scalars(sa.select(Plan).where(Plan.tenant_id == tenant.id)
                                   .order_by(Plan.is_archived, Plan.sort_order, Plan.id)))


def bots_of_tenant(tenant: Tenant) -> list[Bot]:
    return list(db.session.scalars(sa.select(Bot).where(Bot.tenant_id == tenant.id).order_by(Bot.id)))


def audit_query(tenant_id: int | None, *, action: str = "", actor: str = "", target: str = "",
                before_id: int | None = None, since: datetime | None = None, until: datetime | None = None) -> sa.Select:
    """The newest audit rows of a tenant (None: platform rows), filtered by action prefix, actor, target and
    the instants [since, until)."""
    query = sa.select(AuditLog).where(AuditLog.tenant_id == tenant_id if tenant_id else AuditLog.tenant_id.is_(None))
    if action:
        query = query.where(AuditLog.action.startswith(action, autoescape=True))
    if actor:
        query = query.where(AuditLog.actor == actor)
    if target:
        query = query.where(AuditLog.target == target)
    if before_id:
        query = query.where(AuditLog.id < before_id)
    if since:
        query = query.where(AuditLog.created_at >= since)
    if until:
        query = query.where(AuditLog.created_at < until)
    return query.order_by(AuditLog.id.desc()).limit(AUDIT_PAGE_SIZE)
