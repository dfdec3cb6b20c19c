"""Validation of Toman amounts."""
from __future__ import annotations

from app.services.errors import InvalidAmount, ValidationFailed
from app.services.parsing import ascii_digits, parse_int

__all__ = ["MAX_AMOUNT", "ascii_digits", "check_amount", "parse_amount"]

MAX_AMOUNT = 1_000_000_000


def parse_amount(value) -> int:
    """A positive whole number of Toman up to one billion, from an int or a typed string.

    Strings may use thousands separators (`,` `٬` or spaces) and Persian or Arabic digits (parsing.parse_int).
    """
    if isinstance(value, str):
        try:
            value = parse_int(value)
        except ValidationFailed:
            raise InvalidAmount("Enter the amount as a whole number of Toman, e.g. 250000.") from None
    return check_amount(value)


def check_amount(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmount("The amount must be a whole number of Toman.")
    if value <= 0:
        raise InvalidAmount("The amount must be more than zero Toman.")
    if value > MAX_AMOUNT:
        raise InvalidAmount(f"The amount cannot be more than {MAX_AMOUNT:,} Toman.")
    return value
