"""A refused operation reads in the page's language: one mapping (app/error_texts.py) from a DomainError to
the catalog, used by every dashboard form and flash."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import error_texts
from app.services import errors
from tests.helpers import csrf_token

SERVICES = Path(__file__).resolve().parent.parent / "app" / "services"


def _service_source() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in SERVICES.rglob("*.py"))


def test_every_listed_message_is_still_raised_word_for_word():
    source = _service_source()
    missing = [str(m._args[0]) for m in error_texts.KNOWN_MESSAGES if f'"{m._args[0]}"' not in source]
    assert not missing


def test_every_error_code_has_a_text():
    codes = set(re.findall(r'^\s+code = "([a-z_]+)"', _service_source(), re.M))
    assert codes and codes <= set(error_texts.CODE_TEXTS), codes - set(error_texts.CODE_TEXTS)


@pytest.mark.parametrize("language,known,unknown", [
    ("fa", "این کارت از قبل در فهرست شما هست.", "یکی از مقادیر درست نیست؛ فرم را بررسی کنید و دوباره تلاش کنید."),
    ("en", "This card is already in your list.", "Shown as it is."),
])
def test_a_message_is_translated_or_its_code_is(app, language, known, unknown):
    with app.test_request_context():
        from flask import session
        session["lang"] = language
        assert error_texts.error_message(errors.ValidationFailed("This card is already in your list.")) == known
        assert error_texts.error_message(errors.ValidationFailed("Shown as it is.")) == unknown


def test_a_persian_owner_reads_a_refused_card_in_persian(client, make, auth):
    owner = make.account()
    tenant = make.tenant(owner=owner)
    card = make.card(tenant)
    auth.use_language("fa")
    auth.login(owner.email)
    token = csrf_token(client.get("/cards/new"))
    page = client.post("/cards/new", data={"csrf_token": token, "card_number": card.card_number, "holder_name": "سارا",
                                           "bank_name": "ملی", "weight": "1"}).get_data(as_text=True)
    assert "این کارت از قبل در فهرست شما هست." in page and "already in your list" not in page
