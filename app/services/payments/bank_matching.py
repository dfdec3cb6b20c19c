"""Deposit SMS → the open card-to-card invoice it pays.

`ingest` stores the SMS once (the same sender and text again is the same row: a unique digest per tenant),
parses it (app/services/payments/bank_sms) and looks for open invoices (awaiting a receipt or pending
review) of the tenant with the same amount, on a card whose number — or whose account number, when the SMS
names the account — ends with the SMS's tail, opened in the window before the deposit. Exactly one candidate and the tenant's `bank_sms_mode` is auto → the invoice is
submitted (if the member sent nothing yet) and approved through `receipts.approve` by the reviewer
"bank_sms" — one credit, audited, as any approval. Otherwise the message waits in the bank messages queue:
suggested (one candidate, mode suggest, or a receipt flagged as reused) or unmatched (none or several).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    OPEN_RECEIPT_STATUSES,
    BankMessage,
    BankMessageStatus,
    PaymentCard,
    Receipt,
    ReceiptStatus,
    Tenant,
)
from app.services import clock, receipts, settings
from app.services.errors import DomainError, ValidationFailed
from app.services.lookup import get_owned
from app.services.payments import bank_sms, fingerprints
from app.services.payments.bank_sms.common import normalize

M = BankMessageStatus
#: An invoice matches a deposit made up to this long after it was opened...
WINDOW_BEFORE = timedelta(hours=48)
#: ...or this long before (the phone's and the bank's clocks are not ours).
WINDOW_AFTER = timedelta(minutes=30)
REVIEWER = receipts.Reviewer(system="bank_sms")
MAX_SENDER, MAX_TEXT = 64, 2_000


@dataclass(frozen=True)
class Ingested:
    message: BankMessage
    #: The same SMS was already stored: nothing changed.
    duplicate: bool


def ingest(tenant: Tenant, *, sender: str, text: str, received_at: datetime | None = None,
           source: str) -> Ingested:
    """Store one deposit SMS and settle what it can (flush only)."""
    sender, text = (sender or "").strip(), (text or "").strip()
    if not sender or not text or len(sender) > MAX_SENDER or len(text) > MAX_TEXT:
        raise ValidationFailed(f"An SMS has a sender (at most {MAX_SENDER} characters) and a text (at most "
                               f"{MAX_TEXT}).")
    digest = _digest(sender, text)
    existing = _by_digest(tenant, digest)
    if existing is not None:
        return Ingested(existing, True)
    message = BankMessage(tenant_id=tenant.id, sender=sender, text=text, digest=digest, source=source[:40],
                          received_at=received_at or clock.now(), status=M.UNMATCHED.value)
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:  # the same SMS, posted at the same moment by another request
        return Ingested(_by_digest(tenant, digest), True)
    _settle(tenant, message)
    return Ingested(message, False)


def approve_suggestion(tenant: Tenant, message_id: int, by: receipts.Reviewer) -> BankMessage:
    """A person approves the invoice a message suggests (the queue's button)."""
    message = get_message(tenant, message_id)
    if message.status != M.SUGGESTED.value or message.receipt_id is None:
        raise ValidationFailed("This message suggests no invoice.")
    _approve(db.session.get(Receipt, message.receipt_id), message, by)
    message.status, message.reason = M.APPROVED.value, None
    db.session.flush()
    return message


def get_message(tenant: Tenant, message_id: int) -> BankMessage:
    return get_owned(BankMessage, tenant, message_id, "No such message.")


def queue(tenant: Tenant, limit: int = 200) -> list[BankMessage]:
    """Messages a person should look at: suggested and unmatched, newest first."""
    return list(db.session.scalars(sa.select(BankMessage).where(
        BankMessage.tenant_id == tenant.id, BankMessage.status.in_((M.SUGGESTED.value, M.UNMATCHED.value)))
        .order_by(BankMessage.id.desc()).limit(limit)))


def recent(tenant: Tenant, limit: int = 50) -> list[BankMessage]:
    return list(db.session.scalars(sa.select(BankMessage).where(BankMessage.tenant_id == tenant.id)
                                   .order_by(BankMessage.id.desc()).limit(limit)))


def _settle(tenant: Tenant, message: BankMessage) -> None:
    try:
        deposit = bank_sms.parse(message.sender, message.text)
    except bank_sms.Refused as refused:
        message.status, message.reason = M.REFUSED.value, str(refused)[:200]
        db.session.flush()
        return
    message.bank, message.amount, message.tail, message.tail_kind, message.deposited_at = (
        deposit.bank, deposit.amount, deposit.tail, deposit.tail_kind, deposit.at)
    candidates = _candidates(tenant, message)
    if len(candidates) != 1:
        message.status = M.UNMATCHED.value
        message.reason = "no open invoice matches" if not candidates else "several open invoices match"
    else:
        _decide(tenant, message, candidates[0])
    db.session.flush()


def _decide(tenant: Tenant, message: BankMessage, receipt: Receipt) -> None:
    message.receipt_id = receipt.id
    if settings.get(tenant, "bank_sms_mode") != "auto":
        message.status, message.reason = M.SUGGESTED.value, "the tenant approves bank SMS matches by hand"
    elif fingerprints.is_flagged(receipt):
        message.status, message.reason = M.SUGGESTED.value, "the receipt is flagged as reused"
    else:
        try:
            with db.session.begin_nested():  # a refusal part-way leaves nothing half-written
                _approve(receipt, message, REVIEWER)
        except DomainError as exc:
            message.status, message.reason = M.UNMATCHED.value, f"not approved: {exc.message}"[:200]
            return
        message.status, message.reason = M.APPROVED.value, None


def _approve(receipt: Receipt, message: BankMessage, by: receipts.Reviewer) -> Receipt:
    """Submit the invoice if the member sent nothing yet (the SMS is the proof), then approve it."""
    if receipt.status == ReceiptStatus.AWAITING_RECEIPT.value:
        receipts.submit(receipt, text=f"bank SMS #{message.id}: {message.bank} {message.amount:,} Toman")
    return receipts.approve(receipt, by)


def _candidates(tenant: Tenant, message: BankMessage) -> list[Receipt]:
    moment = message.deposited_at or message.received_at
    query = (sa.select(Receipt).join(PaymentCard, PaymentCard.id == Receipt.card_id).where(
        Receipt.tenant_id == tenant.id, Receipt.status.in_(OPEN_RECEIPT_STATUSES),
        Receipt.amount == message.amount, Receipt.created_at >= moment - WINDOW_BEFORE,
        Receipt.created_at <= moment + WINDOW_AFTER).order_by(Receipt.id).limit(5))
    if message.tail:
        query = query.where(_tail_matches(message.tail, message.tail_kind))
    return list(db.session.scalars(query))


def _tail_matches(tail: str, kind: str | None):
    """The card the SMS names: by its number's tail, or by its account number's.

    An account tail is the last four digits of the account (0123456789), or of its serial group when the
    bank writes it in groups ending with a check digit (201-8000-12345678-1 → 5678). A card with no account
    number on record is still found by its card number's tail, as before account numbers were kept.
    """
    on_card = PaymentCard.card_number.like(f"%{tail}")
    on_account = sa.or_(PaymentCard.account_number.like(f"%{tail}"), PaymentCard.account_number.like(f"%{tail}-_"))
    if kind == "card":
        return on_card
    if kind == "account":
        return sa.or_(on_account, sa.and_(PaymentCard.account_number.is_(None), on_card))
    return sa.or_(on_card, on_account)


def _digest(sender: str, text: str) -> str:
    canonical = normalize(sender).strip().lower() + "\n" + " ".join(normalize(text).split())
    return hashlib.sha256(canonical.encode()).hexdigest()


def _by_digest(tenant: Tenant, digest: str) -> BankMessage | None:
    return db.session.scalar(sa.select(BankMessage).where(BankMessage.tenant_id == tenant.id,
                                                          BankMessage.digest == digest))
