"""Deposit SMS matched to open card-to-card invoices: auto-approval, suggestions, the queue, duplicates."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.models import BankMessage, LedgerEntry
from app.services import receipts, settings
from app.services.payments import bank_matching, fingerprints
from tests.payments.bank_helpers import mellat_sms
from tests.payments.receipt_images import as_bytes, receipt_image

CARD = "6037991234567893"


@pytest.fixture
def bank_shop(db, make):
    tenant = make.tenant()
    settings.update(tenant, {"bank_sms_mode": "auto"}, by="test")
    make.card(tenant, number=CARD)
    db.session.commit()
    return tenant


def ingest(db, tenant, text, sender="Bank Mellat"):
    result = bank_matching.ingest(tenant, sender=sender, text=text, source="test")
    db.session.commit()
    return result


def invoice(db, make, tenant, amount):
    receipt = receipts.open_invoice(make.member(tenant), amount=amount)
    db.session.commit()
    return receipt


def test_one_matching_invoice_is_approved_without_a_photo_once(db, make, bank_shop):
    receipt = invoice(db, make, bank_shop, 150_347)
    first = ingest(db, bank_shop, mellat_sms(150_347, "7893"))
    again = ingest(db, bank_shop, mellat_sms(150_347, "7893"))
    db.session.expire_all()
    assert first.message.status == "approved" and first.message.receipt_id == receipt.id
    assert again.duplicate and again.message.id == first.message.id
    assert receipt.status == "approved" and receipt.member.balance == 150_347
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankMessage)) == 1
    assert db.session.scalar(sa.select(LedgerEntry.actor).where(
        LedgerEntry.idempotency_key == f"receipt:{receipt.id}")) == "system:bank_sms"


def test_suggest_mode_waits_for_a_person(db, make, bank_shop):
    settings.update(bank_shop, {"bank_sms_mode": "suggest"}, by="test")
    db.session.commit()
    receipt = invoice(db, make, bank_shop, 150_347)
    message = ingest(db, bank_shop, mellat_sms(150_347, "7893")).message
    assert message.status == "suggested" and message.receipt_id == receipt.id
    owner = make.staff(bank_shop, "owner")
    bank_matching.approve_suggestion(bank_shop, message.id, receipts.Reviewer(account=owner))
    db.session.commit()
    db.session.expire_all()
    assert receipt.status == "approved" and message.status == "approved"


def test_no_match_or_several_go_to_the_queue(db, make, bank_shop):
    invoice(db, make, bank_shop, 200_000)
    invoice(db, make, bank_shop, 200_000)
    several = ingest(db, bank_shop, mellat_sms(200_000, "7893")).message
    none = ingest(db, bank_shop, mellat_sms(999_000, "7893")).message
    wrong_card = ingest(db, bank_shop, mellat_sms(200_000, "1111")).message
    assert (several.status, several.reason) == ("unmatched", "several open invoices match")
    assert none.status == "unmatched" and wrong_card.status == "unmatched"
    assert {m.id for m in bank_matching.queue(bank_shop)} == {several.id, none.id, wrong_card.id}


def test_a_withdrawal_is_stored_refused_with_the_reason(db, make, bank_shop):
    receipt = invoice(db, make, bank_shop, 150_000)
    message = ingest(db, bank_shop, "بانک ملت\nبرداشت:1,500,000-\nکارت:6037****7893\n1403/09/10-14:25").message
    db.session.expire_all()
    assert message.status == "refused" and "deposit" in message.reason and receipt.status == "awaiting_receipt"


def test_a_flagged_receipt_is_never_auto_approved(db, make, bank_shop):
    photo = as_bytes(receipt_image(11))
    first = invoice(db, make, bank_shop, 100_000)
    receipts.submit(first, telegram_file_id="F1")
    fingerprints.record(first, image=photo)
    second = invoice(db, make, bank_shop, 120_001)
    receipts.submit(second, telegram_file_id="F2")
    fingerprints.record(second, image=photo)
    db.session.commit()
    message = ingest(db, bank_shop, mellat_sms(120_001, "7893")).message
    db.session.expire_all()
    assert message.status == "suggested" and message.reason == "the receipt is flagged as reused"
    assert second.status == "pending_review"


def test_another_tenants_invoice_is_never_matched(db, make, bank_shop):
    other = make.tenant()
    make.card(other, number="6219861234567897")
    settings.update(other, {"bank_sms_mode": "auto"}, by="test")
    db.session.commit()
    invoice(db, make, other, 150_347)
    message = ingest(db, bank_shop, mellat_sms(150_347, "7897")).message
    assert message.status == "unmatched"
