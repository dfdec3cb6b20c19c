"""Issue 14 item 2: a one-time staff invitation is used once, however many accept it at the same moment."""
import threading

import pytest
import sqlalchemy as sa

from app.models import Membership, Role, StaffInvitation
from app.services import invitations
from app.services.errors import DomainError


def accept_concurrently(app, secret: str, n: int) -> list:
    barrier, outcomes = threading.Barrier(n), []

    def body(i):
        with app.app_context():
            from app.extensions import db
            barrier.wait()
            try:
                invitations.accept_with_new_account(secret, f"guest{i}@example.com", "long-enough-1")
                db.session.commit()
                outcomes.append("joined")
            except DomainError:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.postgres
@pytest.mark.timeout(60)
def test_ten_concurrent_acceptances_make_one_membership(app, db, make):
    owner = make.account()
    tenant = make.tenant(owner=owner)
    _, secret = invitations.create_invitation(tenant, Role.APPROVER.value, owner)
    db.session.commit()
    outcomes = accept_concurrently(app, secret, 10)
    db.session.expire_all()
    staff = db.session.scalar(sa.select(sa.func.count(Membership.id)).where(
        Membership.tenant_id == tenant.id, Membership.role == Role.APPROVER.value))
    assert (staff, sorted(outcomes)) == (1, ["joined"] + ["refused"] * 9)
    assert db.session.scalar(sa.select(StaffInvitation.used_by_account_id)) is not None


def test_a_used_invitation_is_refused_without_writing(db, make):
    owner = make.account()
    tenant = make.tenant(owner=owner)
    _, secret = invitations.create_invitation(tenant, Role.VIEWER.value, owner)
    invitations.accept_with_new_account(secret, "first@example.com", "long-enough-1")
    db.session.commit()
    with pytest.raises(DomainError):
        invitations.accept_with_new_account(secret, "second@example.com", "long-enough-1")
