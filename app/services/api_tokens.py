"""Integration API tokens: created by an owner (shown once), stored as a sha256 hash, scoped, revocable."""
from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import ApiToken, Tenant
from app.services import audit, clock, crypto
from app.services.errors import ValidationFailed
from app.services.lookup import get_owned

#: What a token may do; every API operation needs one of these.
SCOPES = ("read", "members:write", "money", "bots:admin", "receipts", "webhooks", "bank")
TOKEN_PREFIX = "bf_"
PREFIX_SHOWN = 10
#: last_used_at is written at most this often per token, so reads stay reads.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def create_token(tenant: Tenant, name: str, scopes=None, *, by=None) -> tuple[ApiToken, str]:
    """A new token and its plaintext, which is returned here once and never stored.

    No scopes given means every scope.
    """
    name = (name or "").strip()
    if not 1 <= len(name) <= 80:
        raise ValidationFailed("Give the token a name of 1 to 80 characters.")
    scopes = list(SCOPES) if not scopes else sorted(set(scopes))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ValidationFailed(f"Unknown scope {unknown[0]!r}; use {', '.join(SCOPES)}.")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(tenant_id=tenant.id, name=name, token_hash=crypto.sha256_hex(plaintext),
                     prefix=plaintext[:PREFIX_SHOWN], scopes=scopes)
    db.session.add(token)
    db.session.flush()
    audit.record(tenant.id, audit.actor_of(by), "api_token.create", f"api_token:{token.id}", scopes=scopes)
    return token, plaintext


def authenticate(plaintext: str | None) -> tuple[ApiToken, Tenant] | None:
    """The live token this plaintext belongs to and its tenant (one statement), or None (unknown, revoked,
    or its tenant suspended)."""
    if not plaintext:
        return None
    row = db.session.execute(
        sa.select(ApiToken, Tenant).join(Tenant, Tenant.id == ApiToken.tenant_id)
        .where(ApiToken.token_hash == crypto.sha256_hex(plaintext.strip()), ApiToken.revoked_at.is_(None))).first()
    if row is None or not row.Tenant.is_active:
        return None
    return row.ApiToken, row.Tenant


def touch(token: ApiToken) -> None:
    """Note that the token was used (at most once a minute, by one UPDATE that never waits on a lock)."""
    now = clock.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    db.session.execute(sa.update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now),
                       execution_options={"synchronize_session": False})


def tokens_of(tenant: Tenant) -> list[ApiToken]:
    return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.tenant_id == tenant.id)
                                   .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())))


def revoke(tenant: Tenant, token_id: int, *, by=None) -> ApiToken:
    token = get_owned(ApiToken, tenant, token_id, "No such token.")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        audit.record(tenant.id, audit.actor_of(by), "api_token.revoke", f"api_token:{token.id}")
    db.session.flush()
    return token
