"""Members: a tenant's Telegram users."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import Member, Tenant
from app.services.codes import referral_code


def find_member(tenant: Tenant, telegram_id: int) -> Member | None:
    return db.session.scalar(
        sa.select(Member).where(Member.tenant_id == tenant.id, Member.telegram_id == telegram_id)
    )


def create_member(tenant: Tenant, telegram_id: int, **fields) -> Member:
    """A new member with a fresh referral code; the balance starts at zero (use the ledger)."""
    fields.pop("balance", None)
    member = Member(tenant_id=tenant.id, telegram_id=telegram_id, referral_code=_free_referral_code(tenant),
                    **fields)
    db.session.add(member)
    db.session.flush()
    return member


def get_or_create_member(tenant: Tenant, telegram_id: int, **fields) -> tuple[Member, bool]:
    """The tenant's member with this Telegram id, created if new; (member, created).

    Two bots of a tenant may see a new user at the same instant: the insert yields to the other
    transaction's row (ON CONFLICT DO NOTHING) instead of failing on the unique key.
    """
    member = find_member(tenant, telegram_id)
    if member is not None:
        return member, False
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    fields.pop("balance", None)
    values = {**fields, "tenant_id": tenant.id, "telegram_id": telegram_id,
              "referral_code": _free_referral_code(tenant)}
    statement = (dialect.insert(Member.__table__).values(**values)
                 .on_conflict_do_nothing(index_elements=["tenant_id", "telegram_id"])
                 .returning(Member.__table__.c.id))
    created = db.session.execute(statement).scalar() is not None
    return find_member(tenant, telegram_id), created


def _free_referral_code(tenant: Tenant) -> str:
    while True:
        code = referral_code()
        taken = db.session.scalar(
            sa.select(Member.id).where(Member.tenant_id == tenant.id, Member.referral_code == code)
        )
        if not taken:
            return code
