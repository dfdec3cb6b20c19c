"""Unique invoice amounts: 1–999 Toman added so no two open invoices on one card ask for the same amount.

With the tenant setting `bank_sms_unique_amounts` on, a deposit SMS (amount + card tail) names exactly one
invoice. The card's row lock serializes two invoices opened on one card at the same moment (lock order:
member → card, as in app/services/wallet.py). For a plan the suffix stays on the member's balance.
"""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import OPEN_RECEIPT_STATUSES, PaymentCard, Receipt, Tenant
from app.services import settings
from app.services.errors import DomainError
from app.services.locking import lock_row

MAX_SUFFIX = 999


class NoFreeAmount(DomainError):
    code = "no_free_amount"


def enabled(tenant: Tenant) -> bool:
    return bool(settings.get(tenant, "bank_sms_unique_amounts"))


def apply(receipt: Receipt) -> Receipt:
    """Raise the new invoice's amount by the smallest suffix no other open invoice on its card uses."""
    if receipt.card_id is None or not enabled(db.session.get(Tenant, receipt.tenant_id)):
        return receipt
    lock_row(PaymentCard, receipt.card_id, tenant_id=receipt.tenant_id)
    base = receipt.amount
    taken = set(db.session.scalars(sa.select(Receipt.amount).where(
        Receipt.tenant_id == receipt.tenant_id, Receipt.card_id == receipt.card_id, Receipt.id != receipt.id,
        Receipt.status.in_(OPEN_RECEIPT_STATUSES), Receipt.amount.between(base + 1, base + MAX_SUFFIX))))
    suffix = next((s for s in range(1, MAX_SUFFIX + 1) if base + s not in taken), None)
    if suffix is None:
        raise NoFreeAmount("Too many open invoices of this amount on this card; please try again later.")
    receipt.amount = base + suffix
    db.session.flush()
    return receipt
