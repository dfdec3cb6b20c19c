"""Validation of Toman amounts."""
from __future__ import annotations

from app.services.errors import InvalidAmount

MAX_AMOUNT = 1_000_000_000


def parse_amount(value) -> int:
    """A positive whole number of Toman up to one billion, from an int or a typed string.

    Strings may use thousands separators (`,` `٬` or spaces) and Persian or Arabic digits.
    """
    if isinstance(value, str):
        value = _normalize_digits(value)
        if not value.isdigit():
            raise InvalidAmount("Enter the amount as a whole number of Toman, e.g. 250000.")
        value = int(value)
    return check_amount(value)


def check_amount(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmount("The amount must be a whole number of Toman.")
    if value <= 0:
        raise InvalidAmount("The amount must be more than zero Toman.")
    if value > MAX_AMOUNT:
        raise InvalidAmount(f"The amount cannot be more than {MAX_AMOUNT:,} Toman.")
    return value


_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def ascii_digits(text: str) -> str:
    """Persian and Arabic-Indic digits as 0-9; everything else unchanged."""
    return text.translate(_DIGITS)


def _normalize_digits(text: str) -> str:
    text = ascii_digits(text).strip()
    for separator in (",", "٬", "،", " ", "\u200c", "_"):
        text = text.replace(separator, "")
    return text
