"""The boundary around a job: app context, one transaction per tenant, notices sent after commit."""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable

import sqlalchemy as sa

from app.extensions import db
from app.models import Member, Tenant
from app.services import clock, notify

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notice:
    """A message for one member, sent once the transaction that decided it has committed."""

    member_id: int
    text_key: str
    params: dict = field(default_factory=dict)


TenantStep = Callable[[Tenant, datetime], Iterable[Notice] | None]


def run_in_context(app, job_id: str, work: Callable[[datetime], object]) -> None:
    """Run `work(now)` in a fresh app context; commit on success, roll back and log on error."""
    with app.app_context():
        try:
            work(clock.now())
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", job_id)
        finally:
            db.session.remove()


def for_each_tenant(step: TenantStep, now: datetime) -> int:
    """Run `step(tenant, now)` for every active tenant, each in its own transaction; count failures."""
    failures = 0
    tenant_ids = db.session.scalars(sa.select(Tenant.id).where(Tenant.is_active).order_by(Tenant.id)).all()
    db.session.commit()
    for tenant_id in tenant_ids:
        if not _run_for_tenant(step, tenant_id, now):
            failures += 1
    return failures


def _run_for_tenant(step: TenantStep, tenant_id: int, now: datetime) -> bool:
    try:
        tenant = db.session.get(Tenant, tenant_id)
        notices = list(step(tenant, now) or ())
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("job step %s failed for tenant %s", getattr(step, "__name__", step), tenant_id)
        return False
    deliver(notices)
    return True


def optional_service(module: str, name: str, fallback: Callable) -> Callable:
    """`module.name` when a neighbour's service provides it, else our `fallback`."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return fallback


def deliver(notices: Iterable[Notice]) -> None:
    """Send committed notices; a member deleted meanwhile is skipped."""
    for notice in notices:
        member = db.session.get(Member, notice.member_id)
        if member is not None:
            notify.notify_member(member, notice.text_key, **notice.params)
