"""Members: a tenant's Telegram users."""
from __future__ import annotations

import sqlalchemy as sa

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


def _free_referral_code(tenant: Tenant) -> str:
    while True:
        code = referral_code()
        taken = db.session.scalar(
            sa.select(Member.id).where(Member.tenant_id == tenant.id, Member.referral_code == code)
        )
        if not taken:
            return code
