"""The card-to-card receipt lifecycle.

    awaiting_receipt ──submit──> pending_review ──approve──> approved
           │                          │      └───reject───> rejected
           └──────────┴──expire / cancel──> expired / cancelled

Every transition locks the receipt row first and checks its state under that lock, so a receipt is
decided once however many approvers (dashboard and Telegram) press at the same moment.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    OPEN_RECEIPT_STATUSES,
    Account,
    ApiToken,
    Bot,
    Member,
    Membership,
    Plan,
    Receipt,
    ReceiptPurpose,
    ReceiptStatus,
    Role,
    Subscription,
    SubscriptionSource,
    Tenant,
)
from app.services import (
    audit,
    cards,
    clock,
    events,
    ledger,
    promocodes,
    rewards,
    rowwrites,
    settings,
    wallet,
    webhooks,
)
from app.services.amounts import check_amount
from app.services.codes import tracking_code
from app.services.errors import DomainError, NotAllowed, NotFound, TryAgain, ValidationFailed
from app.services.locking import lock_member_and_referrer, lock_row, update_locked
from app.services.lookup import get_owned
from app.services.parsing import clean_text, has_visible
from app.services.plans import check_on_sale, sell_plan

MAX_TEXT = 2000
MAX_REASON = 500
_CODE_ATTEMPTS = 8
S = ReceiptStatus


class InvalidTransition(DomainError):
    code = "invalid_transition"


class OpenReceiptExists(DomainError):
    code = "open_receipt_exists"

    def __init__(self, message: str, receipt: Receipt, **params):
        super().__init__(message, **params)
        self.receipt = receipt


@dataclass(frozen=True)
class Reviewer:
    """Who decides a receipt: a dashboard account or a Telegram admin (the handler has checked the admin)."""

    account: Account | None = None
    telegram_id: int | None = None
    #: An integration API token with the receipts scope (app/api).
    api_token: ApiToken | None = None
    #: An automatic reviewer of the platform itself, e.g. "bank_sms" (app/services/payments/bank_matching.py).
    system: str | None = None

    @property
    def actor(self) -> str:
        if self.system and not (self.account or self.api_token or self.telegram_id):
            return f"system:{self.system}"
        return audit.actor_of(self.account or self.api_token, self.telegram_id)


def open_invoice(member: Member, *, amount: int | None = None, plan: Plan | None = None,
                 bot: Bot | None = None) -> Receipt:
    """A new invoice: a top-up of `amount`, or the price of `plan`, to a card chosen by rotation."""
    purpose, amount = _purpose_and_amount(member, amount, plan)
    if bot is not None and bot.tenant_id != member.tenant_id:
        raise NotFound("No such bot.")
    _expire_if_stale(open_receipt_of(member))
    locked = lock_row(Member, member.id, tenant_id=member.tenant_id)  # one invoice per member at a time
    if locked.is_banned:
        raise NotAllowed("This account is blocked.")
    existing = open_receipt_of(member)
    if existing is not None:
        raise OpenReceiptExists(f"You already have an open invoice ({existing.tracking_code}). Send its "
                                "receipt or cancel it first.", receipt=existing)
    tenant = db.session.get(Tenant, member.tenant_id)
    card = cards.choose_card(tenant, amount)
    now = clock.now()
    return _insert_with_fresh_code(dict(
        tenant_id=member.tenant_id, member_id=member.id, bot_id=bot.id if bot else None, card_id=card.id,
        purpose=purpose, plan_id=plan.id if plan else None, amount=amount, status=S.AWAITING_RECEIPT.value,
        created_at=now, expires_at=now + timedelta(hours=settings.get(tenant, "receipt_timeout_hours"))))


def open_receipt_of(member: Member) -> Receipt | None:
    return db.session.scalar(sa.select(Receipt).where(
        Receipt.tenant_id == member.tenant_id, Receipt.member_id == member.id,
        Receipt.status.in_(OPEN_RECEIPT_STATUSES)))


def get_receipt(tenant: Tenant, receipt_id: int) -> Receipt:
    """The tenant's receipt, or NotFound (also for another tenant's receipt)."""
    return get_owned(Receipt, tenant, receipt_id, "No such receipt.")


def find_by_tracking_code(tenant: Tenant, code: str) -> Receipt | None:
    code = (code or "").strip().upper()
    return db.session.scalar(sa.select(Receipt).where(Receipt.tenant_id == tenant.id,
                                                      Receipt.tracking_code == code))


def submit(receipt: Receipt, *, telegram_file_id=None, text=None, photo_path=None) -> Receipt:
    """The member sends the proof (a photo and/or text): awaiting_receipt → pending_review."""
    text = clean_text(text, multiline=True) or None
    if not (telegram_file_id or text or photo_path):
        raise ValidationFailed("Send a photo of the receipt or its transfer reference.")
    if text and len(text) > MAX_TEXT:
        raise ValidationFailed(f"The text may have at most {MAX_TEXT} characters.")
    locked = _lock_in(receipt, S.AWAITING_RECEIPT)
    if locked.expires_at <= clock.now():
        raise InvalidTransition("This invoice has expired; please open a new one.")
    locked.telegram_file_id, locked.text, locked.photo_path = telegram_file_id, text, photo_path
    locked.status, locked.submitted_at = S.PENDING_REVIEW.value, clock.now()
    db.session.flush()
    events.receipt_changed("receipt.submitted", locked)
    return locked


def approve(receipt: Receipt, by: Reviewer, *, amount: int | None = None) -> Receipt:
    """Credit the member (and, for a plan, sell it), count it on the card, give XP, and audit it.

    Locks, all up front and in the global order (docs/money.md): the receipt (by approving it: one UPDATE
    of a receipt still pending review), the tenant (a plan sale charges its wallet), then the member and the
    referrer still owed a bonus together in id order, then the card (its UPDATE). Every member change is made
    in memory before the first query that would flush it, so a top-up approval writes the member row once.
    `receipt.rewards` (growth.Rewards) holds the member's level up and new badges, and the referral bonus.
    """
    override = None if amount is None else check_amount(amount)
    locked = _approve_pending(receipt, by)
    credited = locked.amount if override is None else override
    is_plan = locked.purpose == ReceiptPurpose.PLAN.value
    tenant = lock_row(Tenant, locked.tenant_id) if is_plan else rowwrites.get(Tenant, locked.tenant_id)
    member, referrer = lock_member_and_referrer(locked.tenant_id, locked.member_id)
    credit = ledger.credit_locked_member(member, credited, key=f"receipt:{locked.id}", kind="topup",
                                         ref_type="receipt", ref_id=locked.id, actor=by.actor)
    purchase = _sell_receipt_plan(locked, member, by) if is_plan else None
    locked.rewards = rewards.after_receipt_approved(  # growth: XP, purchase badges, referral bonus
        locked, member, credited, purchased=bool(purchase and "subscription_id" in purchase), referrer=referrer)
    cards.record_decision(locked.card_id, tenant, approved_amount=credited)
    audit_data = dict(amount=credited, requested_amount=locked.amount, different_amount=credited != locked.amount,
                      purchase=purchase)  # written by _write_approval
    locked.amount = credited
    _write_approval(locked, member, credit, by.actor, audit_data)
    _announce(locked, credit)
    return locked


def reject(receipt: Receipt, by: Reviewer, reason: str) -> Receipt:
    """Turn the receipt down with a reason the member will read."""
    reason = clean_text(reason, multiline=True)
    if not has_visible(reason) or len(reason) > MAX_REASON:
        raise ValidationFailed(f"Give a reason of 1 to {MAX_REASON} characters; the member will read it.")
    locked = _lock_in(receipt, S.PENDING_REVIEW)
    _check_reviewer(locked.tenant_id, by)
    cards.record_decision(locked.card_id, db.session.get(Tenant, locked.tenant_id), approved_amount=None)
    _decide(locked, by, S.REJECTED)
    locked.reject_reason = reason
    events.receipt_changed("receipt.rejected", locked)
    audit.record(locked.tenant_id, by.actor, "receipt.reject", f"receipt:{locked.id}", reason=reason)
    return locked


def cancel(receipt: Receipt, member: Member) -> Receipt:
    """The member withdraws an open invoice."""
    if receipt.member_id != member.id or receipt.tenant_id != member.tenant_id:
        raise NotFound("No such invoice.")
    locked = _lock_in(receipt, S.AWAITING_RECEIPT, S.PENDING_REVIEW)
    locked.status = S.CANCELLED.value
    db.session.flush()
    return locked


def expire_stale(tenant: Tenant, now: datetime | None = None) -> list[Receipt]:
    """Expire the tenant's open receipts past their deadline; returns them so the member can be told."""
    now = now or clock.now()
    ids = db.session.scalars(sa.select(Receipt.id).where(
        Receipt.tenant_id == tenant.id, Receipt.status.in_(OPEN_RECEIPT_STATUSES), Receipt.expires_at <= now)
        .order_by(Receipt.id)).all()
    expired = []
    for receipt_id in ids:
        locked = lock_row(Receipt, receipt_id, tenant_id=tenant.id)
        if locked is not None and locked.status in OPEN_RECEIPT_STATUSES and locked.expires_at <= now:
            locked.status = S.EXPIRED.value
            expired.append(locked)
    db.session.flush()
    return expired


def purchase_of(receipt: Receipt) -> Subscription | None:
    """The subscription an approved plan receipt bought (None if it was a top-up or the sale was refused)."""
    entry = ledger.find_entry(receipt.tenant_id, f"receipt:{receipt.id}:purchase")
    return db.session.get(Subscription, entry.ref_id) if entry else None


def _purpose_and_amount(member: Member, amount, plan) -> tuple[str, int]:
    if (amount is None) == (plan is None):
        raise ValidationFailed("An invoice is either a top-up amount or a plan.")
    if plan is not None:
        return ReceiptPurpose.PLAN.value, promocodes.price_for(member, check_on_sale(member, plan))
    return ReceiptPurpose.TOPUP.value, check_amount(amount)


def _expire_if_stale(receipt: Receipt | None) -> None:
    if receipt is not None and receipt.expires_at <= clock.now():
        locked = lock_row(Receipt, receipt.id, tenant_id=receipt.tenant_id)
        if locked.status in OPEN_RECEIPT_STATUSES:
            locked.status = S.EXPIRED.value
            db.session.flush()


def _insert_with_fresh_code(fields: dict) -> Receipt:
    """Insert with a new tracking code, trying another on the rare collision."""
    for _ in range(_CODE_ATTEMPTS):
        code = tracking_code()
        if db.session.scalar(sa.select(Receipt.id).where(Receipt.tracking_code == code)):
            continue
        receipt = Receipt(tracking_code=code, **fields)
        try:
            with db.session.begin_nested():
                db.session.add(receipt)
        except IntegrityError:
            continue
        return receipt
    raise DomainError("Could not issue a tracking code; please try again.")


def _lock_in(receipt: Receipt, *allowed: ReceiptStatus) -> Receipt:
    locked = lock_row(Receipt, receipt.id, tenant_id=receipt.tenant_id)
    if locked is None:
        raise NotFound("No such receipt.")
    if locked.status not in {s.value for s in allowed}:
        raise InvalidTransition(f"This receipt is already {locked.status.replace('_', ' ')}.",
                                status=locked.status)
    return locked


_RECEIPTS = Receipt.__table__.c
_MEMBERSHIPS = Membership.__table__.c
_DECIDING_ROLES = (Role.OWNER.value, Role.APPROVER.value)
#: approve's lock and transition in one statement (built once): pending_review → approved, the row returned.
_APPROVE = (sa.update(Receipt.__table__)
            .where(_RECEIPTS.id == sa.bindparam("approve_id"), _RECEIPTS.tenant_id == sa.bindparam("approve_tenant_id"),
                   _RECEIPTS.status == S.PENDING_REVIEW.value)
            .values(status=S.APPROVED.value,
                    reviewed_at=sa.bindparam("approve_at", type_=_RECEIPTS.reviewed_at.type),
                    reviewed_by_account_id=sa.bindparam("approve_account_id", type_=_RECEIPTS.reviewed_by_account_id.type),
                    reviewed_by_telegram_id=sa.bindparam("approve_telegram_id",
                                                         type_=_RECEIPTS.reviewed_by_telegram_id.type))
            .returning(*Receipt.__table__.columns))
#: The same for a dashboard account, whose role in the tenant is checked in the statement.
_APPROVE_AS_STAFF = _APPROVE.where(sa.exists().where(
    _MEMBERSHIPS.account_id == sa.bindparam("approve_account_id"),
    _MEMBERSHIPS.tenant_id == sa.bindparam("approve_tenant_id"),
    sa.or_(*(_MEMBERSHIPS.role == role for role in _DECIDING_ROLES))))  # not IN: that is expanded per execution


def _approve_pending(receipt: Receipt, by: Reviewer) -> Receipt:
    """Lock the receipt by approving it, if the reviewer may and it is still pending review; otherwise the
    refusal _check_reviewer or _lock_in gives."""
    statement = _APPROVE_AS_STAFF if _role_decides(receipt.tenant_id, by) else _APPROVE
    locked = update_locked(Receipt, statement, {
        "approve_id": receipt.id, "approve_tenant_id": receipt.tenant_id, "approve_at": clock.now(),
        "approve_account_id": by.account.id if by.account else None, "approve_telegram_id": by.telegram_id})
    if locked is None:
        _check_reviewer(receipt.tenant_id, by)
        _lock_in(receipt, S.PENDING_REVIEW)  # NotFound or InvalidTransition, with the status it has
        raise TryAgain("The receipt changed while this was being decided; please try again.")
    return locked


_ROLE = sa.select(_MEMBERSHIPS.role).where(  # Core, built once
    _MEMBERSHIPS.account_id == sa.bindparam("role_account_id"), _MEMBERSHIPS.tenant_id == sa.bindparam("role_tenant_id"))


def _check_reviewer(tenant_id: int, by: Reviewer) -> None:
    """A dashboard account must be the tenant's owner or approver (or a platform admin)."""
    if not _role_decides(tenant_id, by):
        return
    role = db.session.connection().execute(_ROLE, {"role_account_id": by.account.id,
                                                   "role_tenant_id": tenant_id}).scalar()
    if role not in _DECIDING_ROLES:
        raise NotAllowed("Only the owner or an approver may decide receipts.")


def _role_decides(tenant_id: int, by: Reviewer) -> bool:
    """Whether the reviewer's role in the tenant decides (a dashboard account, not a platform admin); refuses a
    reviewer of no kind, and an API token of another tenant."""
    if not isinstance(by, Reviewer) or (by.account is None and by.telegram_id is None and by.api_token is None
                                         and by.system is None):
        raise NotAllowed("A receipt is decided by a staff account, a Telegram admin or an API token.")
    if by.api_token is not None and by.api_token.tenant_id != tenant_id:
        raise NotFound("No such receipt.")
    return by.account is not None and not by.account.is_platform_admin


def _sell_receipt_plan(receipt: Receipt, member: Member, by: Reviewer) -> dict:
    """Buy the receipt's plan with the credited money, if the balance and the tenant wallet allow."""
    plan = db.session.get(Plan, receipt.plan_id)
    if member.balance < promocodes.price_for(member, plan):
        return {"skipped": "balance"}
    if not wallet.can_cover(db.session.get(Tenant, receipt.tenant_id), plan):
        wallet.alert_refused_sale(db.session.get(Tenant, receipt.tenant_id), plan, actor=by.actor)
        return {"skipped": "wallet"}
    subscription = sell_plan(member, plan, key=f"receipt:{receipt.id}:purchase",
                             source=SubscriptionSource.RECEIPT.value, actor=by.actor)
    return {"subscription_id": subscription.id}


def _announce(receipt: Receipt, credit) -> None:
    """The events of an approval, once its rows have flushed (the ledger entries have ids): one look at the
    tenant's webhook endpoints for all of them, and their payloads built only when one is active."""
    def approval_events() -> list:
        bonus = receipt.rewards.referral
        entries = [entry for entry in (credit, bonus.entry if bonus else None) if entry is not None]
        return [*map(events.balance_event, entries), events.receipt_event("receipt.approved", receipt)]
    webhooks.emit_all(receipt.tenant_id, approval_events)


def _decide(receipt: Receipt, by: Reviewer, status: ReceiptStatus) -> None:
    receipt.status = status.value
    receipt.reviewed_at = clock.now()
    receipt.reviewed_by_account_id = by.account.id if by.account else None
    receipt.reviewed_by_telegram_id = by.telegram_id
    db.session.flush()


def _write_approval(receipt: Receipt, member: Member, credit, actor: str, audit_data: dict) -> None:
    """The approval's own rows, one Core statement each (rowwrites: the unit of work costs more Python than
    the rest of the approval): the ledger entry, the audit row (no object: audit.write_now), the member (once:
    balance and XP together), the receipt's amount if the reviewer changed it. Whatever else the approval
    changed (a plan sale, the referrer, badges) flushes after them."""
    rowwrites.insert_now(credit)
    audit.write_now(receipt.tenant_id, actor, "receipt.approve", f"receipt:{receipt.id}", **audit_data)
    rowwrites.update_now(member)
    rowwrites.update_now(receipt)
    db.session.flush()

