"""Accounts, tenants and memberships."""
from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db
from app.models import Account, Membership, Role, Tenant
from app.services.errors import ValidationFailed
from app.services.parsing import clean_text, has_visible

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8


#: Built once: signing in looks the account up on every attempt.
_BY_EMAIL = sa.select(Account).where(sa.func.lower(Account.email) == sa.bindparam("email"))


def find_account(email: str) -> Account | None:
    return db.session.scalar(_BY_EMAIL, {"email": email.strip().lower()})


def create_account(email: str, password: str, *, platform_admin: bool = False, display_name=None) -> Account:
    email = email.strip()
    if not EMAIL_RE.match(email):
        raise ValidationFailed(f"{email!r} is not an email address.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if find_account(email):
        raise ValidationFailed(f"An account with the email {email} already exists.")
    account = Account(email=email, is_platform_admin=platform_admin, display_name=display_name)
    account.set_password(password)
    db.session.add(account)
    db.session.flush()
    return account


def create_tenant(name: str, owner: Account, *, slug: str | None = None, **fields) -> Tenant:
    name = clean_text(name)
    if not has_visible(name):
        raise ValidationFailed("The tenant needs a name.")
    slug = slug or _unique_slug(name)
    if db.session.scalar(sa.select(Tenant.id).where(Tenant.slug == slug)):
        raise ValidationFailed(f"The slug {slug!r} is taken.")
    tenant = Tenant(name=name, slug=slug, settings={}, **fields)
    db.session.add(tenant)
    db.session.flush()
    add_member_account(tenant, owner, Role.OWNER)
    return tenant


def add_member_account(tenant: Tenant, account: Account, role: Role) -> Membership:
    membership = Membership(tenant_id=tenant.id, account_id=account.id, role=Role(role).value)
    db.session.add(membership)
    db.session.flush()
    return membership


def memberships_of(account: Account) -> list[Membership]:
    return list(db.session.scalars(
        sa.select(Membership).where(Membership.account_id == account.id).order_by(Membership.id)
    ))


def _unique_slug(name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:48] or "tenant"
    slug, n = base, 1
    while db.session.scalar(sa.select(Tenant.id).where(Tenant.slug == slug)):
        n += 1
        slug = f"{base}-{n}"
    return slug


def staff_of(tenant: Tenant) -> list[Account]:
    """The tenant's dashboard accounts (every role), by email."""
    return list(db.session.scalars(sa.select(Account).join(Membership, Membership.account_id == Account.id)
                                   .where(Membership.tenant_id == tenant.id).order_by(Account.email)))
