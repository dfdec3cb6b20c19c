"""Payment cards and the rotation that picks the card an invoice shows.

Choosing locks every active card of the tenant (in id order), so concurrent invoices queue for a
moment and each sees the previous one's `last_shown_at`: round_robin stays fair across processes.
A card is eligible when it is active and its approved total today, plus the open invoices already
pointing at it, plus this amount, stays within its daily cap.
"""
from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm.util import identity_key

from app.extensions import db
from app.models import OPEN_RECEIPT_STATUSES, CardRotation, PaymentCard, Receipt, Tenant
from app.services import audit, clock
from app.services.amounts import ascii_digits, check_amount
from app.services.errors import DomainError, ValidationFailed
from app.services.locking import lock_rows
from app.services.lookup import get_owned
from app.services.parsing import clean_text, has_visible

EDITABLE_FIELDS = ("card_number", "holder_name", "bank_name", "account_number", "weight", "daily_cap", "is_active")
MAX_WEIGHT = 1000
MAX_ROTATION_MINUTES = 7 * 24 * 60
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_rng = random.SystemRandom()


class NoCardAvailable(DomainError):
    code = "no_card_available"


def normalize_card_number(text: str) -> str:
    """16 digits with a valid Luhn check digit; spaces, dashes and Persian digits are accepted."""
    digits = re.sub(r"[\s\-\u2010-\u2015\u200c]", "", ascii_digits(str(text or "")))
    if not re.fullmatch(r"[0-9]{16}", digits):
        raise ValidationFailed("A card number has 16 digits, e.g. 6037 9912 3456 7893.")
    if not luhn_valid(digits):
        raise ValidationFailed("This card number is mistyped: its check digit does not match.")
    return digits


def normalize_account_number(text: str | None) -> str | None:
    """An account number as its digit groups joined by '-' (201.8000.12345678.1 → 201-8000-12345678-1); None if empty.

    Deposit SMS name the account by its last four digits, or by those of its serial group when the bank
    writes it in groups with a check digit at the end (app/services/payments/bank_matching.py).
    """
    text = ascii_digits(str(text or "")).strip()
    if not text:
        return None
    groups = re.findall(r"[0-9]+", text)
    if re.search(r"[^0-9\s\-./]", text) or not 6 <= sum(map(len, groups)) <= 26:
        raise ValidationFailed("An account number has 6 to 26 digits, e.g. 0123456789 or 201-8000-12345678-1.")
    return "-".join(groups)


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def get_card(tenant: Tenant, card_id: int) -> PaymentCard:
    """The tenant's card, or NotFound (also for another tenant's card)."""
    return get_owned(PaymentCard, tenant, card_id, "No such card.")


def tenant_cards(tenant: Tenant) -> list[PaymentCard]:
    return list(db.session.scalars(sa.select(PaymentCard).where(PaymentCard.tenant_id == tenant.id)
                                   .order_by(PaymentCard.id)))


def create_card(tenant: Tenant, *, card_number, holder_name, bank_name, weight=1, daily_cap=None,
                is_active=True, account_number=None, actor: str = "system") -> PaymentCard:
    """Add a card to the tenant's rotation."""
    fields = _checked(tenant, None, dict(card_number=card_number, holder_name=holder_name, bank_name=bank_name,
                                         weight=weight, daily_cap=daily_cap, is_active=is_active,
                                         account_number=account_number))
    card = PaymentCard(tenant_id=tenant.id, **fields)
    db.session.add(card)
    db.session.flush()
    audit.record(tenant.id, actor, "card.create", f"card:{card.id}", number=card.masked_number)
    return card


def update_card(card: PaymentCard, *, actor: str = "system", **fields) -> PaymentCard:
    """Change some of a card's fields (see EDITABLE_FIELDS)."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(f"A card has no editable field {sorted(unknown)[0]!r}.")
    tenant = db.session.get(Tenant, card.tenant_id)
    checked = _checked(tenant, card, fields)
    changed = sorted(name for name, value in checked.items() if getattr(card, name) != value)
    for name, value in checked.items():
        setattr(card, name, value)
    db.session.flush()
    if changed:  # the form sends every field; the audit names only what really changed
        audit.record(card.tenant_id, actor, "card.update", f"card:{card.id}", fields=changed)
    return card


def _checked(tenant: Tenant, card: PaymentCard | None, fields: dict) -> dict:
    out = dict(fields)
    if "card_number" in out:
        out["card_number"] = normalize_card_number(out["card_number"])
        clash = sa.select(PaymentCard.id).where(PaymentCard.tenant_id == tenant.id,
                                                PaymentCard.card_number == out["card_number"])
        if card is not None:
            clash = clash.where(PaymentCard.id != card.id)
        if db.session.scalar(clash):
            raise ValidationFailed("This card is already in your list.")
    for name, limit in (("holder_name", 120), ("bank_name", 80)):
        if name in out:
            out[name] = _text(out[name], name.replace("_", " "), limit)
    if "account_number" in out:
        out["account_number"] = normalize_account_number(out["account_number"])
    if "weight" in out and (type(out["weight"]) is not int or not 0 <= out["weight"] <= MAX_WEIGHT):
        raise ValidationFailed(f"The weight is a whole number from 0 to {MAX_WEIGHT}.")
    if out.get("daily_cap") is not None:
        out["daily_cap"] = check_amount(out["daily_cap"])
    if "is_active" in out:
        out["is_active"] = bool(out["is_active"])
    return out


def _text(value, label: str, limit: int) -> str:
    value = clean_text(value)
    if not has_visible(value) or len(value) > limit:
        raise ValidationFailed(f"The {label} must have 1 to {limit} characters.")
    return value


def set_rotation_strategy(tenant: Tenant, strategy: str, minutes: int | None = None, *,
                          actor: str = "system") -> Tenant:
    """Pick how invoices rotate over the tenant's cards; `minutes` is the time_based period."""
    if strategy not in {s.value for s in CardRotation}:
        raise ValidationFailed(f"Unknown rotation {strategy!r}; choose one of "
                               f"{', '.join(s.value for s in CardRotation)}.")
    if minutes is not None and (type(minutes) is not int or not 1 <= minutes <= MAX_ROTATION_MINUTES):
        raise ValidationFailed(f"The rotation period is 1 to {MAX_ROTATION_MINUTES} minutes.")
    tenant.card_rotation_strategy = strategy
    if minutes is not None:
        tenant.card_rotation_minutes = minutes
    db.session.flush()
    audit.record(tenant.id, actor, "card.rotation", f"tenant:{tenant.id}", strategy=strategy, minutes=minutes)
    return tenant


def choose_card(tenant: Tenant, amount: int, *, now: datetime | None = None) -> PaymentCard:
    """The card for a new invoice of `amount`; counts the showing. NoCardAvailable when none fits."""
    amount, now = check_amount(amount), now or clock.now()
    active = lock_rows(PaymentCard, PaymentCard.tenant_id == tenant.id, PaymentCard.is_active.is_(True))
    card = _pick(tenant, active, amount, now)
    if card is None:
        raise NoCardAvailable("No card can receive this amount today. Please try again tomorrow or "
                              "with a smaller amount.", amount=amount)
    latest = max((c.last_shown_at for c in active if c.last_shown_at), default=_EPOCH)
    # Strictly after every earlier showing, even if two showings share a clock tick.
    card.last_shown_at = max(now, latest + timedelta(microseconds=1))
    card.times_shown += 1
    db.session.flush()
    return card


def preview_next_card(tenant: Tenant, amount: int | None = None) -> PaymentCard | None:
    """The card the next invoice would get, changing nothing (random strategies: one likely draw)."""
    active = list(db.session.scalars(sa.select(PaymentCard).where(
        PaymentCard.tenant_id == tenant.id, PaymentCard.is_active.is_(True)).order_by(PaymentCard.id)))
    return _pick(tenant, active, 1 if amount is None else check_amount(amount), clock.now())


def received_today(card: PaymentCard, tenant: Tenant, now: datetime | None = None) -> int:
    """Approved Toman on the tenant's current local day."""
    return card.received_today if card.received_day == clock.tenant_today(tenant, now) else 0


def record_decision(card_id: int | None, tenant: Tenant, *, approved_amount: int | None) -> None:
    """Move a card's counters for a decided receipt (approved_amount None means rejected).

    One UPDATE, which takes the card's row lock itself (after the receipt and member locks, as the global
    order wants); a new tenant-local day starts `received_today` afresh. A Core statement built once (it runs in
    every approval); the session's card object, if it has one, reads its counters again when next used.
    """
    if card_id is None:
        return
    session = db.session()
    if approved_amount is None:
        session.connection().execute(_REJECTED, {"card_id": card_id, "card_tenant_id": tenant.id})
    else:
        session.connection().execute(_APPROVED, {"card_id": card_id, "card_tenant_id": tenant.id,
                                                 "card_today": clock.tenant_today(tenant),
                                                 "card_amount": approved_amount})
    card = session.identity_map.get(identity_key(PaymentCard, card_id))
    if card is not None:
        session.expire(card, _DECISION_COUNTERS)


_CARDS = PaymentCard.__table__.c
_DECISION_COUNTERS = ["received_today", "received_day", "approved_count", "rejected_count"]
_DECIDED_CARD = sa.update(PaymentCard.__table__).where(_CARDS.id == sa.bindparam("card_id"),
                                                       _CARDS.tenant_id == sa.bindparam("card_tenant_id"))
_REJECTED = _DECIDED_CARD.values(rejected_count=_CARDS.rejected_count + 1)
_TODAY = sa.bindparam("card_today", type_=_CARDS.received_day.type)
_AMOUNT = sa.bindparam("card_amount", type_=_CARDS.received_today.type)
_APPROVED = _DECIDED_CARD.values(received_today=sa.case((_CARDS.received_day == _TODAY, _CARDS.received_today + _AMOUNT),
                                                        else_=_AMOUNT),
                                 received_day=_TODAY, approved_count=_CARDS.approved_count + 1)


def _pick(tenant: Tenant, active: list[PaymentCard], amount: int, now: datetime) -> PaymentCard | None:
    load = _loads(tenant, active, now)
    eligible = [c for c in active if c.daily_cap is None or load[c.id] + amount <= c.daily_cap]
    if not eligible:
        return None
    strategy = tenant.card_rotation_strategy
    if strategy == CardRotation.RANDOM.value:
        return _rng.choice(eligible)
    if strategy == CardRotation.WEIGHTED.value:
        weighted = [c for c in eligible if c.weight > 0]
        return _rng.choices(weighted, weights=[c.weight for c in weighted])[0] if weighted else None
    if strategy == CardRotation.TIME_BASED.value:
        return _time_slot_card(active, eligible, tenant.card_rotation_minutes or 60, now)
    if strategy == CardRotation.LEAST_RECEIVED.value:
        return min(eligible, key=lambda c: (load[c.id], _shown_order(c)))
    return min(eligible, key=_shown_order)


def _shown_order(card: PaymentCard):
    return (card.last_shown_at or _EPOCH, card.id)


def _time_slot_card(active, eligible, minutes: int, now: datetime) -> PaymentCard:
    """Everybody gets the same card for `minutes`, then the next one (by id); full cards are skipped."""
    ordered = sorted(active, key=lambda c: c.id)
    start = int(now.timestamp() // (60 * minutes)) % len(ordered)
    for card in ordered[start:] + ordered[:start]:
        if card in eligible:
            return card
    return eligible[0]


def _loads(tenant: Tenant, cards: list[PaymentCard], now: datetime) -> dict[int, int]:
    """Per card: approved today plus the amounts of open invoices that point at it."""
    if not cards:
        return {}
    reserved = dict(db.session.execute(
        sa.select(Receipt.card_id, sa.func.sum(Receipt.amount))
        .where(Receipt.tenant_id == tenant.id, Receipt.card_id.in_([c.id for c in cards]),
               Receipt.status.in_(OPEN_RECEIPT_STATUSES))
        .group_by(Receipt.card_id)).all())
    return {c.id: received_today(c, tenant, now) + int(reserved.get(c.id) or 0) for c in cards}
