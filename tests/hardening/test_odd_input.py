"""Issue 14 item 5: odd input (superscript digits, huge numbers, NUL bytes, far dates, invisible names)
gets a clear refusal and changes nothing; it never answers 500."""
import uuid

import pytest
import sqlalchemy as sa

from app.models import LedgerEntry, Member, Plan
from app.services import parsing
from app.services.amounts import parse_amount
from app.services.errors import InvalidAmount, ValidationFailed
from tests.test_dashboard_forms import post

HUGE = "9" * 5000
ODD_NUMBERS = ["²", "12³", "①", "٣²", HUGE, "1e6", "0x10", "--5", "5-", "", " ", "\x00", "1\x002"]


@pytest.mark.parametrize("text", ODD_NUMBERS)
def test_parse_int_refuses_what_is_not_a_number(text):
    with pytest.raises(ValidationFailed):
        parsing.parse_int(text, signed=True)


@pytest.mark.parametrize("text,value", [("1,250,000", 1_250_000), ("۱۲۵۰۰۰", 125_000), ("٣٠٠", 300),
                                        ("-20 000", -20_000), ("+7", 7), ("۵٬۰۰۰", 5_000)])
def test_parse_int_reads_what_people_type(text, value):
    assert parsing.parse_int(text, signed=True) == value


@pytest.mark.parametrize("text", ["²", "12³", HUGE, "١²"])
def test_the_bot_amount_entry_refuses_odd_digits(text):
    with pytest.raises(InvalidAmount):
        parse_amount(text)


def test_text_cleaning():
    assert parsing.clean_text(" a\x00b\x07c\ud800 ") == "abc"
    assert parsing.clean_text("line 1\r\nline\t2\x00", multiline=True) == "line 1\nline\t2"
    assert parsing.clean_text("one\nline") == "one line"
    assert parsing.clean_optional_name("\u200b\u200c\u200f ", max_length=10) is None
    assert parsing.clean_optional_name("Ali\x00", max_length=10) == "Ali"
    with pytest.raises(ValidationFailed):
        parsing.clean_name("\u200b\u200d", max_length=50)


@pytest.mark.parametrize("amount", ["²", "12³", HUGE, "-" + HUGE, "\u0661\u00b2"])
def test_the_adjust_form_refuses_odd_numbers_without_a_500(owner_client, db, make, amount):
    client, tenant, _ = owner_client
    member = make.member(tenant)
    response = post(client, f"/members/{member.id}/adjust", request_id=uuid.uuid4().hex, amount=amount,
                    reason="gift")
    assert response.status_code in (200, 302, 400), response.status_code
    assert db.session.scalar(sa.select(sa.func.count(LedgerEntry.id))) == 0


@pytest.mark.parametrize("query", ["²", "12³", HUGE[:2000], "١²٣"])
def test_member_search_with_odd_digits_answers(owner_client, make, query):
    client, tenant, _ = owner_client
    make.member(tenant)
    assert client.get("/members/", query_string={"q": query}).status_code == 200


@pytest.mark.parametrize("url", ["/members/?q=a%00b", "/receipts/?tracking_code=%00", "/audit/?actor=%00x"])
def test_a_nul_byte_in_a_filter_is_a_clear_400(owner_client, url):
    client, _, _ = owner_client
    response = client.get(url)
    assert response.status_code == 400 and "control characters" in response.get_data(as_text=True)


def test_a_nul_byte_in_a_saved_text_is_refused_and_saves_nothing(owner_client, db):
    client, _, _ = owner_client
    response = post(client, "/plans/new", name="Gold\x00", period_days="30", price="100000")
    assert response.status_code == 400 and "control characters" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Plan.id))) == 0


def test_an_invisible_plan_name_is_refused(owner_client, db):
    client, _, _ = owner_client
    response = post(client, "/plans/new", name="\u200b\u200c", period_days="30", price="100000")
    assert response.status_code in (200, 400)
    assert db.session.scalar(sa.select(sa.func.count(Plan.id))) == 0


@pytest.mark.parametrize("query", ["day_from=9999-12-31", "day_to=9999-12-31", "day_from=0001-01-01",
                                   "day_to=0001-01-01", "bot_id=99999999999999999999", "card_id=²",
                                   "day_from=2024-02-30"])
def test_receipt_filters_out_of_range_answer_without_a_500(owner_client, query):
    client, _, _ = owner_client
    assert client.get(f"/receipts/?{query}").status_code == 200
    assert client.get(f"/receipts/history?{query}").status_code == 200


def test_a_telegram_name_with_nul_and_invisible_characters_is_cleaned(db, make):
    from types import SimpleNamespace

    from bots.context import _refresh_profile

    member = make.member(make.tenant())
    _refresh_profile(member, SimpleNamespace(username="bob\x00", first_name="\u200b\u200b", last_name="A\x00li"))
    db.session.commit()
    fresh = db.session.get(Member, member.id)
    assert (fresh.username, fresh.first_name, fresh.last_name) == ("bob", None, "Ali")
