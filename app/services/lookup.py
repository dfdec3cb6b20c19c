"""A tenant's row by its id: the one rule behind every "this tenant's X, or NotFound" lookup.

Another tenant's id reads exactly like a missing one, and the query names the tenant, so another tenant's
row is never loaded. Services raise NotFound with their own message; the dashboard's
`app.tenant_context.get_owned_or_404` answers 404 from the same query.
"""
from __future__ import annotations

from typing import TypeVar

import sqlalchemy as sa

from app.extensions import db
from app.models import Tenant
from app.services.errors import NotFound

Row = TypeVar("Row")


def owned_row(model: type[Row], tenant: Tenant, row_id: int | None) -> Row | None:
    """`model`'s row `row_id` if it belongs to `tenant`, else None."""
    return db.session.scalar(sa.select(model).where(model.id == row_id, model.tenant_id == tenant.id))


def get_owned(model: type[Row], tenant: Tenant, row_id: int | None, message: str) -> Row:
    """`model`'s row `row_id` of `tenant`, or NotFound(message) (for another tenant's row too)."""
    row = owned_row(model, tenant, row_id)
    if row is None:
        raise NotFound(message)
    return row
