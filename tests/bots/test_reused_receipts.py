"""A receipt photo a second member sends again is flagged in the admin chat and on the dashboard."""
from __future__ import annotations

import re

import sqlalchemy as sa

from app.models import Receipt
from app.services.payments import fingerprints
from bots.i18n import t
from tests.bots.conftest import ADMIN_ID
from tests.payments.receipt_images import as_bytes, receipt_image


def test_the_second_member_sending_the_same_photo_is_flagged_everywhere(db, make, fleet, card_shop, client, auth):
    tenant, bot = card_shop
    photo = as_bytes(receipt_image(7), "JPEG", 90)
    sara, reza = fleet.user(bot, language_code="en"), fleet.user(bot, language_code="en")
    admin = fleet.user(bot, user_id=ADMIN_ID, language_code="en")
    sara.tops_up_with_photo(photo, amount=100_000)
    reza.tops_up_with_photo(as_bytes(receipt_image(7), "JPEG", 60, 0.6), amount=100_000)  # a re-compressed copy

    db.session.expire_all()
    first, second = db.session.scalars(sa.select(Receipt).order_by(Receipt.id)).all()
    assert not fingerprints.is_flagged(first) and fingerprints.is_flagged(second)
    copies = admin.bot_messages()
    assert first.tracking_code in copies[1]["caption"]  # the line names the earlier receipt
    assert copies[1]["caption"].startswith("⚠️") and not copies[0]["caption"].startswith("⚠️")

    owner = make.staff(tenant, "owner")
    auth.login(owner.email)
    queue = client.get("/receipts/").get_data(as_text=True)
    rows = re.findall(r"<tr>.*?</tr>", queue, re.S)
    flagged_rows = [row for row in rows if "reuse-badge" in row]
    assert len(flagged_rows) == 1 and second.tracking_code in flagged_rows[0]
    page = client.get(f"/receipts/{second.id}").get_data(as_text=True)
    assert 'id="reuse-warning"' in page and first.tracking_code in page
    assert 'id="earlier-photo"' in page and f"/receipts/{first.id}/photo" in page
    assert 'id="reuse-warning"' not in client.get(f"/receipts/{first.id}").get_data(as_text=True)
