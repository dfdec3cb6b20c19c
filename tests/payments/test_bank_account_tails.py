"""Deposit SMS that name the credited account (not the card): matched through the card's account number."""
from __future__ import annotations

import jdatetime
import pytest

from app.services import cards, clock, receipts, settings
from app.services.errors import ValidationFailed
from app.services.payments import bank_matching
from app.services.payments.bank_sms.common import TEHRAN
from tests.helpers import csrf_token
from tests.payments.bank_helpers import mellat_sms

CARD = "6037991234567893"


def now_jalali() -> str:
    return jdatetime.datetime.fromgregorian(datetime=clock.now().astimezone(TEHRAN)).strftime("%Y/%m/%d %H:%M")


def melli_sms(toman: int, account: str) -> str:
    """Bank Melli names the account: `حساب: 0123456789`."""
    return f"بانک ملی ایران\nواریز: {toman * 10:,}\nحساب: {account}\nمانده: 12,000,000\n{now_jalali()}"


def pasargad_sms(toman: int, account: str) -> str:
    """Bank Pasargad writes the account in groups ending with a check digit: 201.8000.12345678.1."""
    return f"بانک پاسارگاد\nواریز به {account}\nمبلغ: {toman * 10:,}\n{now_jalali()}"


def shop(db, make, account_number):
    tenant = make.tenant()
    settings.update(tenant, {"bank_sms_mode": "auto"}, by="test")
    make.card(tenant, number=CARD, account_number=cards.normalize_account_number(account_number))
    db.session.commit()
    return tenant


def settle(db, make, tenant, amount, text, sender):
    receipt = receipts.open_invoice(make.member(tenant), amount=amount)
    db.session.commit()
    message = bank_matching.ingest(tenant, sender=sender, text=text, source="test").message
    db.session.commit()
    db.session.expire_all()
    return receipt, message


def test_an_account_tail_finds_the_card_that_carries_the_account(db, make):
    tenant = shop(db, make, "0110876543216789")
    receipt, message = settle(db, make, tenant, 150_347, melli_sms(150_347, "0110876543216789"), "+98700717")
    assert (message.tail, message.tail_kind, message.status) == ("6789", "account", "approved")
    assert message.receipt_id == receipt.id and receipt.status == "approved"


def test_a_grouped_account_is_named_by_its_serial_groups_tail(db, make):
    tenant = shop(db, make, "201.8000.12345678.1")
    receipt, message = settle(db, make, tenant, 98_765, pasargad_sms(98_765, "۲۰۱.۸۰۰۰.۱۲۳۴۵۶۷۸.۱"), "BPI")
    assert (message.tail, message.tail_kind, message.status) == ("5678", "account", "approved")
    assert receipt.status == "approved"


def test_an_account_tail_that_is_only_the_card_numbers_tail_does_not_match_a_card_with_an_account(db, make):
    tenant = shop(db, make, "0123456789")  # the card ends in 7893, its account in 6789
    receipt, message = settle(db, make, tenant, 120_000, melli_sms(120_000, "0000007893"), "+98700717")
    assert (message.status, message.receipt_id) == ("unmatched", None) and receipt.status == "awaiting_receipt"


def test_a_card_tail_never_matches_through_the_account_number(db, make):
    tenant = shop(db, make, "0123451111")
    receipt, message = settle(db, make, tenant, 120_000, mellat_sms(120_000, "1111"), "Bank Mellat")
    assert (message.tail_kind, message.status) == ("card", "unmatched") and receipt.status == "awaiting_receipt"


def test_a_card_without_an_account_number_is_still_found_by_its_card_tail(db, make):
    tenant = shop(db, make, None)
    receipt, message = settle(db, make, tenant, 75_000, melli_sms(75_000, "0110000007893"), "+98700717")
    assert (message.tail_kind, message.status) == ("account", "approved") and receipt.status == "approved"


@pytest.mark.parametrize("typed, stored", [("0123456789", "0123456789"), ("۲۰۱.۸۰۰۰.۱۲۳۴۵۶۷۸.۱", "201-8000-12345678-1"),
                                           ("820-800-1234567-1", "820-800-1234567-1"), (" ", None), ("", None)])
def test_account_numbers_are_stored_as_digit_groups(typed, stored):
    assert cards.normalize_account_number(typed) == stored


@pytest.mark.parametrize("typed", ["12345", "IR0123456789", "1" * 27])
def test_a_mistyped_account_number_is_refused(typed):
    with pytest.raises(ValidationFailed):
        cards.normalize_account_number(typed)


def test_the_owner_saves_a_cards_account_number_in_the_dashboard(db, make, client, auth):
    owner = make.account()
    tenant = make.tenant(owner=owner)
    card = make.card(tenant)
    auth.login(owner.email)
    page = client.get(f"/cards/{card.id}/edit")
    assert 'name="account_number"' in page.get_data(as_text=True)
    saved = client.post(f"/cards/{card.id}/edit", data={
        "csrf_token": csrf_token(page), "card_number": card.card_number, "holder_name": "H", "bank_name": "Melli",
        "account_number": "0110-8765-4321", "weight": "1", "daily_cap": "", "is_active": "y"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert card.account_number == "0110-8765-4321"
