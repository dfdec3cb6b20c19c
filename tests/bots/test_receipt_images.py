"""Receipt images are checked, re-encoded without metadata, stored as such and served with their real type.

A receipt sent as an image *document* reaches the admin chats as a photo of our re-encoded copy (Telegram,
and the sandbox, refuse a document's file_id in sendPhoto: "type of file mismatch").
"""
from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from app.models import Receipt
from app.services import images
from app.services.payments import fingerprints
from bots.i18n import t
from tests.bots.conftest import ADMIN_ID
from tests.payments.receipt_images import as_bytes, receipt_image

HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def jpeg_with_exif(seed: int = 3) -> bytes:
    """A receipt screenshot carrying EXIF with a GPS position and a camera name, as phone cameras write."""
    image = receipt_image(seed)
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (35.0, 41.0, 46.0), 3: "E", 4: (51.0, 25.0, 23.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif, icc_profile=b"\0" * 128)
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# -- the function -------------------------------------------------------------------------------------------

def test_a_jpeg_is_re_encoded_without_its_metadata(app):
    with app.app_context():
        clean = images.clean(jpeg_with_exif())
    image = opened(clean.data)
    assert (clean.mime_type, clean.extension, image.format) == ("image/jpeg", ".jpg", "JPEG")
    assert not image.getexif() and "icc_profile" not in image.info and b"SpyCam" not in clean.data
    assert (image.width, image.height) == (clean.width, clean.height) == (720, 1280)


def test_a_png_stays_png_and_transparency_is_kept(app):
    source = Image.new("RGBA", (40, 30), (10, 20, 30, 128))
    out = io.BytesIO()
    source.save(out, "PNG", pnginfo=_text_chunk("Comment", "secret"))
    with app.app_context():
        clean = images.clean(out.getvalue())
    image = opened(clean.data)
    assert image.format == "PNG" and image.mode == "RGBA" and clean.mime_type == "image/png"
    assert b"secret" not in clean.data and image.getpixel((0, 0)) == (10, 20, 30, 128)


@pytest.mark.parametrize("data", [
    HTML, b"", b"\x89PNG\r\n\x1a\n" + b"\0" * 50,  # HTML; nothing; a PNG signature and garbage
    as_bytes(receipt_image(1), "PNG")[:4000],  # a truncated PNG
    as_bytes(receipt_image(1), "GIF"),  # a format we do not take
], ids=["html", "empty", "png-signature", "truncated", "gif"])
def test_what_is_not_a_readable_picture_is_refused(app, data):
    with app.app_context(), pytest.raises(images.ImageRejected) as refused:
        images.clean(data)
    assert refused.value.code == "image_rejected"


def test_too_many_bytes_or_pixels_are_refused_before_decoding(app):
    bomb = io.BytesIO()
    Image.new("1", (9_000, 9_000)).save(bomb, "PNG")  # 81 Mpx in a few kilobytes
    with app.app_context():
        with pytest.raises(images.ImageTooLarge):
            images.clean(HTML + b" " * (20 * 1024 * 1024))
        with pytest.raises(images.ImageTooLarge):
            images.clean(bomb.getvalue())
        app.config["IMAGE_MAX_BYTES"] = 1000
        try:
            with pytest.raises(images.ImageTooLarge):
                images.clean(as_bytes(receipt_image(1), "PNG"))
        finally:
            app.config["IMAGE_MAX_BYTES"] = images.DEFAULT_MAX_BYTES


def _text_chunk(key, value):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text(key, value)
    return info


# -- in the bot -----------------------------------------------------------------------------------------------

def test_a_20_mb_html_file_sent_as_png_is_refused_in_the_members_language(db, fleet, card_shop, png):
    tenant, bot = card_shop
    sara = fleet.user(bot, language_code="ru")
    sara.says("/start")
    sara.presses("m:topup")
    sara.presses("tu:100000")

    sara.sends_document(HTML + b" " * (20 * 1024 * 1024 - len(HTML)), "receipt.png", "image/png")
    assert sara.last_text() == t("ru", "error.image_too_large")
    sara.sends_document(HTML, "receipt.png", "image/png")
    assert sara.last_text() == t("ru", "error.image_rejected")

    receipt = db.session.scalar(sa.select(Receipt))
    assert receipt.status == "awaiting_receipt" and receipt.photo_path is None
    assert not (Path(fleet.app.instance_path) / "receipts").exists()
    sara.sends_photo(png)  # the invoice is still open for a real picture
    db.session.expire_all()
    assert db.session.get(Receipt, receipt.id).status == "pending_review"


def test_an_image_document_reaches_the_admin_as_a_photo_and_is_stored_clean(db, make, fleet, card_shop, auth):
    tenant, bot = card_shop
    sara = fleet.user(bot, language_code="en")
    admin = fleet.user(bot, user_id=ADMIN_ID)
    sara.says("/start")
    sara.presses("m:topup")
    sara.presses("tu:100000")

    sara.sends_document(jpeg_with_exif(), "IMG_0042.JPG", "image/jpeg", caption="paid")

    receipt = db.session.scalar(sa.select(Receipt))
    assert sara.last_text() == t("en", "payments.submitted", code=receipt.tracking_code)
    assert receipt.status == "pending_review" and receipt.telegram_file_id is None
    assert receipt.photo_path.endswith(f"{receipt.tracking_code}.jpg")
    stored = (Path(fleet.app.instance_path) / receipt.photo_path).read_bytes()
    assert b"SpyCam" not in stored and not opened(stored).getexif()
    [copy] = admin.bot_messages()
    assert copy["photo"] and receipt.tracking_code in copy["caption"] and copy["reply_markup"]
    admin.presses(f"ra:{receipt.id}")  # the copy is a photo: its caption is what gets edited
    db.session.expire_all()
    assert admin.bot_messages()[0]["edited"] and db.session.get(Receipt, receipt.id).status == "approved"

    auth.login(make.staff(tenant, "approver", email="approver@example.com").email)
    response = auth.client.get(f"/receipts/{receipt.id}/photo")
    assert response.status_code == 200 and response.mimetype == "image/jpeg" and response.data == stored
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_file_that_is_no_picture_on_disk_is_never_served(db, make, fleet, card_shop, png, auth):
    tenant, bot = card_shop
    fleet.user(bot).tops_up_with_photo(png)
    receipt = db.session.scalar(sa.select(Receipt))
    (Path(fleet.app.instance_path) / receipt.photo_path).write_bytes(HTML)  # e.g. stored by an older version
    auth.login(make.staff(tenant, "owner").email)
    assert auth.client.get(f"/receipts/{receipt.id}/photo").status_code == 404


def test_the_same_picture_as_photo_then_as_document_is_flagged(db, fleet, card_shop):
    tenant, bot = card_shop
    sara, reza = fleet.user(bot, language_code="en"), fleet.user(bot, language_code="en")
    sara.tops_up_with_photo(as_bytes(receipt_image(11), "JPEG", 90))
    reza.says("/start")
    reza.presses("m:topup")
    reza.presses("tu:100000")
    reza.sends_document(as_bytes(receipt_image(11), "PNG"), "shot.png", "image/png")

    first, second = db.session.scalars(sa.select(Receipt).order_by(Receipt.id)).all()
    assert second.status == "pending_review" and second.photo_path.endswith(".png")
    assert not fingerprints.is_flagged(first) and fingerprints.is_flagged(second)
    assert fingerprints.fingerprint_of(second).duplicate_reason == "same_image"
