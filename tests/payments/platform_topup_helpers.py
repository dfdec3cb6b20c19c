"""Shared pieces of the platform top-up tests: a platform card, an owner's upload, a platform admin's decision."""
from __future__ import annotations

import io
import re

from PIL import Image

from app.services import platform_cards
from tests.factories import AuthActions, luhn_complete


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def receipt_image(colour=(30, 140, 200), size=(320, 200), kind="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, kind)
    return out.getvalue()


def platform_card(db, number_prefix="603799100000001"):
    card = platform_cards.create_card(card_number=luhn_complete(number_prefix), holder_name="Botfleet Co.",
                                      bank_name="Mellat", account_number="4567891234", actor="test")
    db.session.commit()
    return card


def signed_in(app, account, language="en"):
    client = app.test_client()
    actions = AuthActions(client)
    actions.login(account.email)
    actions.use_language(language)
    return client


def upload(client, card, amount="150,000", image=None, text="ref 778899"):
    token = csrf(client.get("/account/password").get_data(as_text=True))
    return client.post("/wallet/topup/card", content_type="multipart/form-data", data={
        "csrf_token": token, "card_id": str(card.id), "amount": amount, "text": text,
        "photo": (io.BytesIO(receipt_image() if image is None else image), "receipt.png")})


def decide(client, receipt_id, action="approve", **fields):
    token = csrf(client.get("/admin/cards").get_data(as_text=True))  # a page that always has a form
    return client.post(f"/admin/receipts/{receipt_id}/{action}", data={"csrf_token": token, **fields})
