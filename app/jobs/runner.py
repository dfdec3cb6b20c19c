"""The boundary around a job: app context, one unit of work per tenant, notices written to the outbox."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.models import Member, Tenant
from app.services import clock, notify
from app.unit_of_work import unit_of_work

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notice:
    """A message for one member, written to the outbox in the transaction that decided it."""

    member_id: int
    text_key: str
    params: dict = field(default_factory=dict)


TenantStep = Callable[[Tenant, datetime], Iterable[Notice] | None]


def run_in_context(app, job_id: str, work: Callable[[datetime], object]) -> None:
    """Run `work(now)` in a fresh app context as one unit of work; an error is rolled back and logged."""
    with app.app_context():
        try:
            with unit_of_work():
                work(clock.now())
        except Exception:
            log.exception("job %s failed", job_id)
        finally:
            db.session.remove()


def for_each_tenant(step: TenantStep, now: datetime) -> int:
    """Run `step(tenant, now)` for every active tenant, each in its own unit of work; count failures."""
    failures = 0
    tenant_ids = db.session.scalars(sa.select(Tenant.id).where(Tenant.is_active).order_by(Tenant.id)).all()
    db.session.rollback()  # end the read; each tenant gets its own transaction
    for tenant_id in tenant_ids:
        if not _run_for_tenant(step, tenant_id, now):
            failures += 1
    return failures


def _run_for_tenant(step: TenantStep, tenant_id: int, now: datetime) -> bool:
    try:
        with unit_of_work():
            tell(step(db.session.get(Tenant, tenant_id), now) or ())
    except Exception:
        log.exception("job step %s failed for tenant %s", getattr(step, "__name__", step), tenant_id)
        return False
    return True


def tell(notices: Iterable[Notice]) -> None:
    """Write the notices to the outbox in the step's transaction: they go only if it commits."""
    for notice in notices:
        member = db.session.get(Member, notice.member_id)
        if member is not None:
            notify.notify_member(member, notice.text_key, **notice.params)
