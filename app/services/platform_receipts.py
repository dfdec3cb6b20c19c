"""Tenants pay the platform by card-to-card: the owner uploads the receipt, a platform admin decides it.

    (upload) ──> pending_review ──approve──> approved   (the tenant wallet is credited once)
                      │   └──────reject────> rejected
                      └──cancel (owner)──> cancelled

The member receipt's rules one level up (app/services/receipts.py): every decision locks the receipt row
first and checks its state under that lock, then the tenant row (the ledger's wallet lock) — the global
lock order receipt → tenant — and credits under the idempotency key `platform_receipt:<id>`, audited. The
owner is told by a dashboard notice.
"""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    Account,
    Membership,
    PlatformCard,
    PlatformReceipt,
    ReceiptStatus,
    Role,
    Tenant,
    TenantNotice,
)
from app.services import audit, clock, ledger, uploads
from app.services.amounts import check_amount
from app.services.codes import random_code
from app.services.errors import DomainError, NotAllowed, NotFound, ValidationFailed
from app.services.locking import lock_row
from app.services.lookup import get_owned
from app.services.parsing import clean_text, has_visible
from app.services.receipts import MAX_REASON, InvalidTransition

S = ReceiptStatus
MAX_TEXT = 500
QUEUE_ROWS = 200
_CODE_ATTEMPTS = 8


class ReceiptAlreadyPending(DomainError):
    code = "platform_receipt_pending"


def submit(tenant: Tenant, by: Account, *, amount: int, card_id: int, image: bytes, text: str | None,
           instance_path: str) -> PlatformReceipt:
    """The owner's transfer to a platform card, with its receipt image: a new receipt pending review."""
    _check_owner(tenant, by)
    amount = check_amount(amount)
    card = db.session.get(PlatformCard, card_id)
    if card is None or not card.is_active:
        raise ValidationFailed("Choose one of the platform's cards.")
    text = clean_text(text, multiline=True) or None
    if text and len(text) > MAX_TEXT:
        raise ValidationFailed(f"The note may have at most {MAX_TEXT} characters.")
    data, extension = uploads.checked_image(image)
    if pending_of(tenant) is not None:
        raise ReceiptAlreadyPending("A receipt of yours is already waiting for review.")
    receipt = _insert(dict(tenant_id=tenant.id, card_id=card.id, amount=amount, text=text,
                           status=S.PENDING_REVIEW.value, submitted_by_account_id=by.id, submitted_at=clock.now()))
    receipt.photo_path = _store_photo(instance_path, receipt, data, extension)
    db.session.flush()
    audit.record(tenant.id, audit.actor_of(by), "wallet.receipt_submit", f"platform_receipt:{receipt.id}",
                 amount=amount)
    return receipt


def approve(receipt: PlatformReceipt, by: Account, *, amount: int | None = None) -> PlatformReceipt:
    """Credit the tenant wallet with the receipt's amount (or the amount that really arrived), once."""
    _check_admin(by)
    locked = _lock_pending(receipt)
    credited = locked.amount if amount is None else check_amount(amount)
    tenant = db.session.get(Tenant, locked.tenant_id)
    entry = ledger.credit_wallet(tenant, credited, key=f"platform_receipt:{locked.id}", kind="wallet_receipt",
                                 ref_type="platform_receipt", ref_id=locked.id, actor=audit.actor_of(by))
    audit.record(locked.tenant_id, audit.actor_of(by), "wallet.receipt_approve", f"platform_receipt:{locked.id}",
                 amount=credited, requested_amount=locked.amount, different_amount=credited != locked.amount,
                 ledger_entry=entry.id)
    locked.amount = credited
    _decide(locked, by, S.APPROVED)
    _notify(locked, "platform_receipt_approved", f"The platform approved your wallet top-up "
            f"{locked.tracking_code}: {credited:,} Toman was added to your wallet.")
    return locked


def reject(receipt: PlatformReceipt, by: Account, reason: str) -> PlatformReceipt:
    """Turn the receipt down with a reason the owner will read."""
    reason = clean_text(reason, multiline=True)
    if not has_visible(reason) or len(reason) > MAX_REASON:
        raise ValidationFailed(f"Give a reason of 1 to {MAX_REASON} characters; the owner will read it.")
    _check_admin(by)
    locked = _lock_pending(receipt)
    locked.reject_reason = reason
    _decide(locked, by, S.REJECTED)
    audit.record(locked.tenant_id, audit.actor_of(by), "wallet.receipt_reject", f"platform_receipt:{locked.id}",
                 reason=reason)
    _notify(locked, "platform_receipt_rejected",
            f"The platform rejected your wallet top-up {locked.tracking_code}: {reason}"[:500])
    return locked


def cancel(receipt: PlatformReceipt, tenant: Tenant, by: Account) -> PlatformReceipt:
    """The owner withdraws a receipt still waiting for review."""
    _check_owner(tenant, by)
    if receipt.tenant_id != tenant.id:
        raise NotFound("No such receipt.")
    locked = _lock_pending(receipt)
    locked.status = S.CANCELLED.value
    db.session.flush()
    audit.record(tenant.id, audit.actor_of(by), "wallet.receipt_cancel", f"platform_receipt:{locked.id}")
    return locked


def get_for_tenant(tenant: Tenant, receipt_id: int) -> PlatformReceipt:
    """The tenant's receipt, or NotFound (also for another tenant's)."""
    return get_owned(PlatformReceipt, tenant, receipt_id, "No such receipt.")


def get(receipt_id: int) -> PlatformReceipt:
    receipt = db.session.get(PlatformReceipt, receipt_id)
    if receipt is None:
        raise NotFound("No such receipt.")
    return receipt


def pending_of(tenant: Tenant) -> PlatformReceipt | None:
    return db.session.scalar(sa.select(PlatformReceipt).where(PlatformReceipt.tenant_id == tenant.id,
                                                              PlatformReceipt.status == S.PENDING_REVIEW.value))


def of_tenant(tenant: Tenant, limit: int = 50) -> list[PlatformReceipt]:
    return list(db.session.scalars(sa.select(PlatformReceipt).where(PlatformReceipt.tenant_id == tenant.id)
                                   .order_by(PlatformReceipt.id.desc()).limit(limit)))


def queue(limit: int = QUEUE_ROWS) -> list[PlatformReceipt]:
    """Receipts of every tenant waiting for review, oldest first."""
    return list(db.session.scalars(sa.select(PlatformReceipt).where(PlatformReceipt.status == S.PENDING_REVIEW.value)
                                   .order_by(PlatformReceipt.submitted_at, PlatformReceipt.id).limit(limit)))


def decided(limit: int = 50) -> list[PlatformReceipt]:
    return list(db.session.scalars(sa.select(PlatformReceipt).where(PlatformReceipt.reviewed_at.is_not(None))
                                   .order_by(PlatformReceipt.reviewed_at.desc(), PlatformReceipt.id.desc())
                                   .limit(limit)))


def photo_file(receipt: PlatformReceipt, instance_path: str) -> Path | None:
    """The image's file if it lies inside the instance folder (never follow a path out of it)."""
    if not receipt.photo_path:
        return None
    root = Path(instance_path).resolve()
    path = (root / receipt.photo_path).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


def _check_owner(tenant: Tenant, by: Account) -> None:
    role = db.session.scalar(sa.select(Membership.role).where(Membership.account_id == by.id,
                                                              Membership.tenant_id == tenant.id))
    if role != Role.OWNER.value:
        raise NotAllowed("Only the tenant's owner tops up its wallet.")


def _check_admin(by: Account) -> None:
    if not isinstance(by, Account) or not by.is_platform_admin:
        raise NotAllowed("Only a platform admin decides wallet top-up receipts.")


def _lock_pending(receipt: PlatformReceipt) -> PlatformReceipt:
    locked = lock_row(PlatformReceipt, receipt.id)
    if locked is None:
        raise NotFound("No such receipt.")
    if locked.status != S.PENDING_REVIEW.value:
        raise InvalidTransition(f"This receipt is already {locked.status.replace('_', ' ')}.", status=locked.status)
    return locked


def _decide(receipt: PlatformReceipt, by: Account, status: ReceiptStatus) -> None:
    receipt.status, receipt.reviewed_at, receipt.reviewed_by_account_id = status.value, clock.now(), by.id
    db.session.flush()


def _notify(receipt: PlatformReceipt, kind: str, message: str) -> None:
    db.session.add(TenantNotice(tenant_id=receipt.tenant_id, kind=kind, message=message))
    db.session.flush()


def _insert(fields: dict) -> PlatformReceipt:
    """Insert with a fresh tracking code; a second pending receipt of the tenant (a race) is refused."""
    for _ in range(_CODE_ATTEMPTS):
        receipt = PlatformReceipt(tracking_code=f"TOP-{random_code(6)}", **fields)
        try:
            with db.session.begin_nested():
                db.session.add(receipt)
        except IntegrityError:
            if pending_of(db.session.get(Tenant, fields["tenant_id"])) is not None:
                raise ReceiptAlreadyPending("A receipt of yours is already waiting for review.") from None
            continue
        return receipt
    raise DomainError("Could not issue a tracking code; please try again.")


def _store_photo(instance_path: str, receipt: PlatformReceipt, data: bytes, extension: str) -> str:
    """Keep the image in the instance folder; its path relative to it."""
    relative = Path("platform_receipts") / str(receipt.tenant_id) / f"{receipt.tracking_code}.{extension}"
    target = Path(instance_path) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return relative.as_posix()
