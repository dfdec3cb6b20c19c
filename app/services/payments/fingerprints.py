"""Reused-receipt detection: the same photo (or a resized, re-compressed copy) or transfer reference twice.

Each submitted receipt gets a ReceiptFingerprint: Telegram's `file_unique_id`, a 64-bit perceptual hash
(imagehash.phash), a 144×256 grayscale thumbnail and the reference number in the member's text. It is
compared with the tenant's earlier receipts (any member):

1. the same `file_unique_id` → same_file;
2. a phash within PHASH_NEAR bits AND thumbnails that differ in at most THUMB_MAX_CHANGED of their pixels
   → same_image. The phash alone is not enough: screenshots of one bank app share a layout, and on 50
   generated receipts of one template 64-bit phashes of *different* receipts were equal. The thumbnail
   check tells them apart (a different amount or reference changes hundreds of pixels; a resized or
   re-compressed copy changes none), see docs/payments.md for the measured rates;
3. the same reference number → same_reference.

A flagged receipt is shown with a warning in the queue, on its page and in the admin-chat copy, and is
never approved automatically (bank SMS matching checks `is_flagged`).
"""
from __future__ import annotations

import io
import re

import imagehash
import numpy as np
import sqlalchemy as sa
from PIL import Image, UnidentifiedImageError

from app.extensions import db
from app.models import Receipt, ReceiptFingerprint
from app.services import audit
from app.services.amounts import ascii_digits

PHASH_NEAR = 12
THUMB_SIZE = (144, 256)
#: A pixel "changed" when its gray level moved by more than this (JPEG noise stays well below).
PIXEL_DELTA = 48
#: Share of changed pixels up to which two thumbnails are the same image (0.1% ≈ 37 pixels).
THUMB_MAX_CHANGED = 0.001
#: Near-image candidates are searched among the tenant's latest fingerprints.
SCAN_LIMIT = 5_000
MAX_IMAGE_PIXELS = 40_000_000
REFERENCE = re.compile(r"(?<!\d)\d{6,14}(?!\d)")


def record(receipt: Receipt, *, file_unique_id: str | None = None, image: bytes | None = None) -> ReceiptFingerprint:
    """Fingerprint a just-submitted receipt and flag it when it repeats an earlier one (flush only)."""
    phash, thumbnail = _image_fingerprint(image)
    fingerprint = ReceiptFingerprint(
        tenant_id=receipt.tenant_id, receipt_id=receipt.id, file_unique_id=(file_unique_id or None),
        phash=phash, thumbnail=thumbnail, reference=reference_in(receipt.text, receipt.amount))
    reason, earlier = _earliest_match(fingerprint)
    fingerprint.duplicate_reason, fingerprint.duplicate_of_id = reason, earlier
    db.session.add(fingerprint)
    db.session.flush()
    if reason:
        audit.record(receipt.tenant_id, "system", "receipt.reused", f"receipt:{receipt.id}", reason=reason,
                     duplicate_of=earlier)
    return fingerprint


def fingerprint_of(receipt: Receipt) -> ReceiptFingerprint | None:
    return db.session.scalar(sa.select(ReceiptFingerprint).where(ReceiptFingerprint.receipt_id == receipt.id,
                                                                 ReceiptFingerprint.tenant_id == receipt.tenant_id))


def is_flagged(receipt: Receipt) -> bool:
    fingerprint = fingerprint_of(receipt)
    return fingerprint is not None and fingerprint.flagged


def flags_for(tenant_id: int, receipt_ids: list[int]) -> dict[int, ReceiptFingerprint]:
    """The flagged fingerprints among these receipts, by receipt id (for the queue's badges)."""
    if not receipt_ids:
        return {}
    rows = db.session.scalars(sa.select(ReceiptFingerprint).where(
        ReceiptFingerprint.tenant_id == tenant_id, ReceiptFingerprint.receipt_id.in_(receipt_ids),
        ReceiptFingerprint.duplicate_reason.is_not(None)))
    return {row.receipt_id: row for row in rows}


def reference_in(text: str | None, amount: int | None = None) -> str | None:
    """The longest 6–14 digit number in the text that is not the amount (Toman or Rial), e.g. a Shaparak RRN."""
    numbers = [n for n in REFERENCE.findall(ascii_digits(text or "")) if amount is None
               or int(n) not in (amount, amount * 10)]
    return max(numbers, key=len) if numbers else None


def same_image(a: bytes, b: bytes) -> bool:
    """Two stored thumbnails show the same image (at most THUMB_MAX_CHANGED of the pixels changed)."""
    first, second = _pixels(a), _pixels(b)
    return float((np.abs(first - second) > PIXEL_DELTA).mean()) <= THUMB_MAX_CHANGED


def phash_distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _image_fingerprint(image: bytes | None) -> tuple[str | None, bytes | None]:
    """(phash hex, thumbnail PNG) of the image bytes; (None, None) when they are not an image we can read."""
    if not image:
        return None, None
    try:
        with Image.open(io.BytesIO(image)) as picture:
            if picture.width * picture.height > MAX_IMAGE_PIXELS:
                return None, None
            picture.load()
            gray = picture.convert("L")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None, None
    thumb = gray.resize(THUMB_SIZE, Image.BOX)
    out = io.BytesIO()
    thumb.save(out, "PNG", optimize=True)
    return str(imagehash.phash(gray)), out.getvalue()


def _pixels(png: bytes):
    with Image.open(io.BytesIO(png)) as picture:
        return np.asarray(picture.convert("L"), dtype=np.int16)


def _earliest_match(fp: ReceiptFingerprint) -> tuple[str | None, int | None]:
    for reason, finder in (("same_file", _same_file), ("same_image", _near_image), ("same_reference", _same_reference)):
        receipt_id = finder(fp)
        if receipt_id is not None:
            return reason, receipt_id
    return None, None


def _earlier(fp: ReceiptFingerprint):
    return sa.select(ReceiptFingerprint.receipt_id).where(ReceiptFingerprint.tenant_id == fp.tenant_id,
                                                          ReceiptFingerprint.receipt_id != fp.receipt_id)


def _same_file(fp: ReceiptFingerprint) -> int | None:
    if not fp.file_unique_id:
        return None
    return db.session.scalar(_earlier(fp).where(ReceiptFingerprint.file_unique_id == fp.file_unique_id)
                             .order_by(ReceiptFingerprint.id).limit(1))


def _same_reference(fp: ReceiptFingerprint) -> int | None:
    if not fp.reference:
        return None
    return db.session.scalar(_earlier(fp).where(ReceiptFingerprint.reference == fp.reference)
                             .order_by(ReceiptFingerprint.id).limit(1))


def _near_image(fp: ReceiptFingerprint) -> int | None:
    """The oldest of the tenant's latest SCAN_LIMIT images whose phash is near and whose thumbnail matches."""
    if not fp.phash:
        return None
    rows = db.session.execute(
        sa.select(ReceiptFingerprint.id, ReceiptFingerprint.receipt_id, ReceiptFingerprint.phash)
        .where(ReceiptFingerprint.tenant_id == fp.tenant_id, ReceiptFingerprint.receipt_id != fp.receipt_id,
               ReceiptFingerprint.phash.is_not(None))
        .order_by(ReceiptFingerprint.id.desc()).limit(SCAN_LIMIT)).all()
    near = sorted((row.id, row.receipt_id) for row in rows if phash_distance(row.phash, fp.phash) <= PHASH_NEAR)
    for fingerprint_id, receipt_id in near:
        thumbnail = db.session.scalar(sa.select(ReceiptFingerprint.thumbnail)
                                      .where(ReceiptFingerprint.id == fingerprint_id))
        if thumbnail and same_image(thumbnail, fp.thumbnail):
            return receipt_id
    return None
