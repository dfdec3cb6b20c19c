"""Reused receipts: the same photo (even resized and re-compressed) or reference by any member is flagged."""
from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from app.models import ReceiptFingerprint
from app.services import receipts
from app.services.payments import fingerprints
from tests.payments.receipt_images import as_bytes, receipt_image


@pytest.fixture
def shop(db, make):
    tenant = make.tenant()
    make.card(tenant)
    return tenant


def submitted(db, make, tenant, *, image=None, file_unique_id=None, text=None, amount=100_000):
    member = make.member(tenant)
    receipt = receipts.open_invoice(member, amount=amount)
    receipts.submit(receipt, telegram_file_id="F" if image else None, text=text or ("see photo" if not image else None))
    fingerprint = fingerprints.record(receipt, file_unique_id=file_unique_id, image=image)
    db.session.commit()
    return receipt, fingerprint


def test_the_same_image_sent_by_two_members_flags_the_second(db, make, shop):
    photo = as_bytes(receipt_image(1))
    first, clean = submitted(db, make, shop, image=photo)
    second, flagged = submitted(db, make, shop, image=photo)
    assert not clean.flagged and clean.phash and clean.thumbnail
    assert flagged.duplicate_reason == "same_image" and flagged.duplicate_of_id == first.id
    assert fingerprints.is_flagged(second) and not fingerprints.is_flagged(first)


@pytest.mark.parametrize("kind, quality, scale", [("JPEG", 50, 0.4), ("JPEG", 85, 0.7), ("JPEG", 95, 1.5),
                                                  ("PNG", 0, 0.5)])
def test_a_resized_or_recompressed_copy_is_flagged(db, make, shop, kind, quality, scale):
    image = receipt_image(2)
    first, _ = submitted(db, make, shop, image=as_bytes(image))
    _, copy = submitted(db, make, shop, image=as_bytes(image, kind, quality, scale))
    assert copy.duplicate_reason == "same_image" and copy.duplicate_of_id == first.id


def test_the_same_telegram_file_is_flagged_even_without_an_image(db, make, shop):
    first, _ = submitted(db, make, shop, file_unique_id="AQADxyz", text="paid")
    _, again = submitted(db, make, shop, file_unique_id="AQADxyz", text="paid again")
    assert again.duplicate_reason == "same_file" and again.duplicate_of_id == first.id


def test_a_reused_transfer_reference_is_flagged_in_persian_digits_too(db, make, shop):
    first, one = submitted(db, make, shop, text="پرداخت شد، شماره پیگیری 123456789012")
    _, two = submitted(db, make, shop, text="شماره مرجع ۱۲۳۴۵۶۷۸۹۰۱۲ بانک ملت")
    assert one.reference == "123456789012" and not one.flagged
    assert two.duplicate_reason == "same_reference" and two.duplicate_of_id == first.id


def test_the_amount_is_not_taken_for_a_reference(db, make, shop):
    _, one = submitted(db, make, shop, text="واریز 100000 تومان", amount=100_000)
    _, two = submitted(db, make, shop, text="واریز 1000000 ریال", amount=100_000)
    assert one.reference is None and two.reference is None and not two.flagged


def test_another_tenants_receipts_are_never_compared(db, make, shop):
    photo = as_bytes(receipt_image(3))
    submitted(db, make, shop, image=photo)
    other = make.tenant()
    make.card(other)
    _, theirs = submitted(db, make, other, image=photo)
    assert not theirs.flagged


def test_garbage_instead_of_an_image_is_not_an_error(db, make, shop):
    _, fingerprint = submitted(db, make, shop, image=b"not an image at all")
    assert fingerprint.phash is None and not fingerprint.flagged


def test_fifty_distinct_generated_receipts_are_not_flagged(db, make, shop):
    """The false-positive measurement of docs/payments.md: 50 receipts of one template, 1,225 pairs."""
    flagged = [submitted(db, make, shop, image=as_bytes(receipt_image(100 + i), "JPEG", 85))[1].flagged
               for i in range(50)]
    assert sum(flagged) == 0
    rows = db.session.scalars(sa.select(ReceiptFingerprint)).all()
    near = sum(fingerprints.phash_distance(a.phash, b.phash) <= fingerprints.PHASH_NEAR
               for a, b in itertools.combinations(rows, 2))
    assert near > 0  # the phash alone would have flagged some: the thumbnail check is what keeps them apart
