"""Idempotent API requests: the first response under a tenant's key is stored and replayed.

The claim is an INSERT of the key in the request's own transaction. A second request with the same key
waits on the unique index until the first commits (Postgres), then finds the stored response; if the first
rolled back, the key is free again and the second runs. SQLite serializes writers, so it behaves the same.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import IdempotencyRecord
from app.services import clock
from app.services.errors import DomainError

#: A client's key; ledger keys built from it add a namespace and a suffix within their 128 characters.
MAX_KEY = 100


class KeyReused(DomainError):
    """The key was already used for a different request."""

    code = "idempotency_key_reused"


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: object


def request_hash(method: str, path: str, body) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(tenant_id: int, key: str, fingerprint: str) -> Replay | None:
    """Take the key for this request (None: go ahead), or the stored first response to replay.

    KeyReused when the key belongs to another request.
    """
    insert = (postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite).insert
    statement = (insert(IdempotencyRecord).values(tenant_id=tenant_id, key=key, request_hash=fingerprint,
                                                   created_at=clock.now())
                 .on_conflict_do_nothing(index_elements=["tenant_id", "key"]).returning(IdempotencyRecord.id))
    if db.session.execute(statement).scalar() is not None:
        return None
    record = db.session.scalar(sa.select(IdempotencyRecord).where(
        IdempotencyRecord.tenant_id == tenant_id, IdempotencyRecord.key == key))
    if record.request_hash != fingerprint:
        raise KeyReused(f"The Idempotency-Key {key!r} was already used for a different request.")
    return Replay(record.status_code, record.response_body)


def store(tenant_id: int, key: str, status_code: int, body) -> None:
    """Keep the response of the request that claimed `key` (same transaction as its effects)."""
    db.session.execute(sa.update(IdempotencyRecord)
                       .where(IdempotencyRecord.tenant_id == tenant_id, IdempotencyRecord.key == key)
                       .values(status_code=status_code, response_body=body),
                       execution_options={"synchronize_session": False})
