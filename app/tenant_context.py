"""The tenant a signed-in account is working in, and role checks for dashboard views."""
from __future__ import annotations

from functools import wraps

import sqlalchemy as sa
from flask import abort, g, session
from flask_login import current_user, login_required

from app.extensions import db
from app.models import Membership, Role
from app.services.lookup import owned_row

SESSION_KEY = "tenant_id"


def current_membership() -> Membership | None:
    """The membership for the tenant chosen in the session (else the account's first), cached per request."""
    if "membership" not in g:
        g.membership = _load_membership() if current_user.is_authenticated else None
    return g.membership


def current_tenant():
    membership = current_membership()
    return membership.tenant if membership else None


def switch_tenant(tenant_id: int) -> bool:
    """Remember the chosen tenant if the account belongs to it."""
    allowed = db.session.scalar(sa.select(Membership.id).where(
        Membership.account_id == current_user.id, Membership.tenant_id == tenant_id))
    if allowed:
        session[SESSION_KEY] = tenant_id
        g.pop("membership", None)
    return bool(allowed)


def roles_required(*roles: Role):
    """Login, a current tenant, and one of these roles; otherwise 403 (or the login page)."""
    allowed = {Role(r).value for r in roles}

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            membership = current_membership()
            if membership is None or membership.role not in allowed:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def get_owned_or_404(model, object_id: int):
    """A row of the current tenant, or 404 (another tenant's id looks exactly like a missing one)."""
    tenant = current_tenant()
    obj = owned_row(model, tenant, object_id) if tenant else None
    if obj is None:
        abort(404)
    return obj


def _load_membership() -> Membership | None:
    query = sa.select(Membership).where(Membership.account_id == current_user.id)
    chosen = session.get(SESSION_KEY)
    if chosen:
        found = db.session.scalar(query.where(Membership.tenant_id == chosen))
        if found:
            return found
    return db.session.scalar(query.order_by(Membership.id))
