"""Platform admin operations: a tenant with its owner account, and the list of tenants."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Account, Tenant
from app.services import audit, tenancy


def create_tenant_with_owner(name: str, owner_email: str, owner_password: str | None, by: Account) -> Tenant:
    """A new tenant owned by the account with this email, created when it does not exist yet."""
    owner = tenancy.find_account(owner_email) or tenancy.create_account(owner_email, owner_password or "")
    tenant = tenancy.create_tenant(name, owner)
    audit.record(tenant.id, audit.actor_of(by), "platform.create_tenant", f"tenant:{tenant.id}", owner=owner.email)
    return tenant


def all_tenants() -> list[Tenant]:
    return list(db.session.scalars(sa.select(Tenant).order_by(Tenant.id)))
