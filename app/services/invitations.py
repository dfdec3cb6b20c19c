"""One-time links an owner gives to new staff (approvers and viewers)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import Account, Membership, Role, StaffInvitation, Tenant, utcnow
from app.services import audit, crypto, tenancy
from app.services.errors import NotFound, ValidationFailed

INVITATION_LIFETIME = timedelta(days=7)
STAFF_ROLES = (Role.APPROVER.value, Role.VIEWER.value, Role.SUPPORT.value)
USED_MESSAGE = "This invitation link is invalid, used or expired. Ask the owner for a new one."


def create_invitation(tenant: Tenant, role: str, by: Account) -> tuple[StaffInvitation, str]:
    """A new invitation and its secret; only the secret's hash is stored, so show it once."""
    if role not in STAFF_ROLES:
        raise ValidationFailed("Staff are invited as approver or viewer.")
    secret = crypto.new_secret(24)
    invitation = StaffInvitation(tenant_id=tenant.id, role=role, token_hash=crypto.sha256_hex(secret),
                                 created_by_account_id=by.id, expires_at=utcnow() + INVITATION_LIFETIME)
    db.session.add(invitation)
    db.session.flush()
    audit.record(tenant.id, audit.actor_of(by), "staff.invite", f"invitation:{invitation.id}", role=role)
    return invitation, secret


def open_invitation(secret: str) -> StaffInvitation:
    """The unused, unexpired invitation for this secret, else NotFound."""
    invitation = db.session.scalar(
        sa.select(StaffInvitation).where(StaffInvitation.token_hash == crypto.sha256_hex(secret or "")))
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= utcnow():
        raise NotFound(USED_MESSAGE)
    return invitation


def accept_invitation(secret: str, account: Account) -> Membership:
    """Join the invitation's tenant with its role; the link then stops working.

    The link is claimed with one conditional UPDATE (still unused and unexpired), so of many
    concurrent acceptances exactly one wins; the others get NotFound and roll back.
    """
    invitation = open_invitation(secret)
    already = db.session.scalar(sa.select(Membership.id).where(
        Membership.account_id == account.id, Membership.tenant_id == invitation.tenant_id))
    if already:
        raise ValidationFailed("This account already belongs to that tenant.")
    _claim(invitation, account)
    tenant = db.session.get(Tenant, invitation.tenant_id)
    membership = tenancy.add_member_account(tenant, account, Role(invitation.role))
    audit.record(tenant.id, audit.actor_of(account), "staff.join", f"account:{account.id}", role=invitation.role)
    return membership


def accept_with_new_account(secret: str, email: str, password: str) -> Membership:
    open_invitation(secret)
    account = tenancy.create_account(email, password)
    return accept_invitation(secret, account)


def _claim(invitation: StaffInvitation, account: Account) -> None:
    now = utcnow()
    claimed = db.session.execute(
        sa.update(StaffInvitation)
        .where(StaffInvitation.id == invitation.id, StaffInvitation.used_at.is_(None),
               StaffInvitation.expires_at > now)
        .values(used_at=now, used_by_account_id=account.id),
        execution_options={"synchronize_session": False})
    if claimed.rowcount != 1:
        raise NotFound(USED_MESSAGE)
    db.session.refresh(invitation)


def staff_of(tenant: Tenant) -> list[Membership]:
    return list(db.session.scalars(
        sa.select(Membership).where(Membership.tenant_id == tenant.id).order_by(Membership.id)))


def pending_invitations(tenant: Tenant) -> list[StaffInvitation]:
    return list(db.session.scalars(sa.select(StaffInvitation).where(
        StaffInvitation.tenant_id == tenant.id, StaffInvitation.used_at.is_(None),
        StaffInvitation.expires_at > utcnow()).order_by(StaffInvitation.id.desc())))


def revoke_invitation(invitation: StaffInvitation, by: Account) -> None:
    invitation.expires_at = utcnow()
    audit.record(invitation.tenant_id, audit.actor_of(by), "staff.revoke_invitation", f"invitation:{invitation.id}")
    db.session.flush()
