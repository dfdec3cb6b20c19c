"""The audit log."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import ApiToken, AuditLog, utcnow


def actor_of(account=None, telegram_id: int | None = None) -> str:
    """The actor string for an account (or an API token acting for its tenant), a Telegram user, or the system."""
    if isinstance(account, ApiToken):
        return f"api:{account.id}"
    if account is not None:
        return f"account:{account.id}"
    if telegram_id is not None:
        return f"telegram:{telegram_id}"
    return "system"


def record(tenant_id: int | None, actor: str, action: str, target: str | None = None, *, flush: bool = True,
           **data) -> AuditLog:
    """Add an audit row; `flush=False` leaves it to the caller's next flush (it then has no id yet)."""
    entry = AuditLog(tenant_id=tenant_id, actor=actor, action=action, target=target, data=data)
    db.session.add(entry)
    if flush:
        db.session.flush()
    return entry


_INSERT = sa.insert(AuditLog.__table__)


def write_now(tenant_id: int | None, actor: str, action: str, target: str | None = None, **data) -> None:
    """record() for a hot path that keeps no AuditLog object (receipts.approve): one Core INSERT now, in the
    caller's transaction, without the ORM's object, its RETURNING of the id and its registration in the session."""
    db.session.connection().execute(_INSERT, {"tenant_id": tenant_id, "actor": actor, "action": action,
                                              "target": target, "data": data, "created_at": utcnow()})
