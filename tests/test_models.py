"""Database-level guarantees that hold even if a service forgets them."""
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.models import Account, Receipt, utcnow


def receipt(tenant, member, status, code):
    return Receipt(tenant_id=tenant.id, member_id=member.id, purpose="topup", amount=10_000, tracking_code=code,
                   status=status, expires_at=utcnow() + timedelta(hours=24))


def test_email_is_unique_regardless_of_case(db):
    db.session.add_all([Account(email="Same@Example.com", password_hash="x"),
                        Account(email="same@example.COM", password_hash="x")])
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_one_open_receipt_per_member(db, make):
    tenant = make.tenant()
    member = make.member(tenant)
    db.session.add_all([receipt(tenant, member, "approved", "C2C-AAAAA2"), receipt(tenant, member, "rejected", "C2C-AAAAA3"),
                        receipt(tenant, member, "pending_review", "C2C-AAAAA4")])
    db.session.commit()
    db.session.add(receipt(tenant, member, "awaiting_receipt", "C2C-AAAAA5"))
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_balance_can_never_be_negative_in_the_database(db, make):
    member = make.member(make.tenant())
    with pytest.raises(IntegrityError):
        db.session.execute(sa.text("UPDATE members SET balance = -1 WHERE id = :id"), {"id": member.id})
        db.session.commit()


def test_naive_datetimes_are_refused(db, make):
    member = make.member(make.tenant())
    member.last_activity_at = utcnow().replace(tzinfo=None)
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        db.session.commit()
