"""The platform's own cards, which tenants transfer wallet top-ups to (managed by platform admins)."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import PlatformCard
from app.services import audit
from app.services.cards import normalize_account_number, normalize_card_number
from app.services.errors import NotFound, ValidationFailed
from app.services.parsing import clean_text, has_visible


def all_cards() -> list[PlatformCard]:
    return list(db.session.scalars(sa.select(PlatformCard).order_by(PlatformCard.id)))


def active_cards() -> list[PlatformCard]:
    return list(db.session.scalars(sa.select(PlatformCard).where(PlatformCard.is_active.is_(True))
                                   .order_by(PlatformCard.id)))


def get_card(card_id: int) -> PlatformCard:
    card = db.session.get(PlatformCard, card_id)
    if card is None:
        raise NotFound("No such card.")
    return card


def create_card(*, card_number, holder_name, bank_name, account_number=None, actor: str) -> PlatformCard:
    """Add a card tenants may transfer to."""
    number = normalize_card_number(card_number)
    if db.session.scalar(sa.select(PlatformCard.id).where(PlatformCard.card_number == number)):
        raise ValidationFailed("This card is already in the list.")
    card = PlatformCard(card_number=number, holder_name=_text(holder_name, "holder name", 120),
                        bank_name=_text(bank_name, "bank name", 80),
                        account_number=normalize_account_number(account_number), is_active=True)
    db.session.add(card)
    db.session.flush()
    audit.record(None, actor, "platform_card.create", f"platform_card:{card.id}", number=card.masked_number)
    return card


def set_active(card: PlatformCard, active: bool, *, actor: str) -> PlatformCard:
    """Offer the card to tenants, or stop offering it (receipts already sent to it stay reviewable)."""
    card.is_active = bool(active)
    db.session.flush()
    audit.record(None, actor, "platform_card.update", f"platform_card:{card.id}", fields=["is_active"])
    return card


def _text(value, label: str, limit: int) -> str:
    value = clean_text(value)
    if not has_visible(value) or len(value) > limit:
        raise ValidationFailed(f"The {label} must have 1 to {limit} characters.")
    return value
