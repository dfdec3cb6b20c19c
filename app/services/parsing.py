"""The one parsing layer for what people type: numbers, dates and text, for forms, filters, bots and the API.

Numbers: ASCII and Persian / Arabic-Indic digits only (never `²`, `①` or other "digits" Python's
str.isdigit() accepts and int() then refuses), thousands separators allowed, a bounded length (int() of
more than 4,300 digits raises). Text: NUL and other control characters are stripped (psycopg2 refuses NUL
at flush), lone surrogates too, and a name made only of invisible characters (zero-width spaces, joiners,
direction marks) is refused. Dates: within MIN_DAY..MAX_DAY, so `day + 1` never overflows.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from app.services.errors import ValidationFailed

#: Digits beyond these are not a number anybody types (a Toman amount has at most 10).
MAX_NUMBER_DIGITS = 18
#: The separators people put between thousands: comma, Arabic thousands separator and comma, space, ZWNJ, _.
SEPARATORS = (",", "٬", "،", " ", "\u00a0", "\u200c", "_")
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_ASCII_NUMBER = re.compile(r"[+-]?[0-9]+")
#: The dates a filter or a form may name; anything else is a typo (and 9999-12-31 + 1 day overflows).
MIN_DAY, MAX_DAY = date(2000, 1, 1), date(2199, 12, 31)
#: Control characters kept in multi-line text.
#: Browsers send a textarea's line breaks as CR LF.
_KEPT_IN_MULTILINE = {"\n", "\r", "\t"}


def ascii_digits(text: str) -> str:
    """Persian and Arabic-Indic digits as 0-9; everything else unchanged."""
    return text.translate(_DIGITS)


def parse_int(text, *, signed: bool = False, max_digits: int = MAX_NUMBER_DIGITS) -> int:
    """A whole number typed by a person; ValidationFailed for anything else (never ValueError).

    Accepts ASCII, Persian and Arabic-Indic digits with thousands separators, and a sign when `signed`.
    """
    if isinstance(text, bool):
        raise ValidationFailed("Enter a whole number.")
    if isinstance(text, int):
        return text
    cleaned = ascii_digits(str(text or "")).strip()
    for separator in SEPARATORS:
        cleaned = cleaned.replace(separator, "")
    if not _ASCII_NUMBER.fullmatch(cleaned) or (cleaned[0] in "+-" and not signed):
        raise ValidationFailed("Enter a whole number using the digits 0-9 or ۰-۹.")
    if len(cleaned.lstrip("+-").lstrip("0")) > max_digits:
        raise ValidationFailed(f"A number here has at most {max_digits} digits.")
    return int(cleaned)


def clean_text(text, *, max_length: int | None = None, multiline: bool = False) -> str:
    """`text` without control characters, lone surrogates or surrounding whitespace.

    Multi-line text keeps newlines (carriage returns become newlines) and tabs; one line turns them into
    spaces. ValidationFailed beyond `max_length`.
    """
    text = str(text or "").replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        text = text.replace("\n", " ").replace("\t", " ")
    kept = "".join(ch for ch in text if not _dropped(ch, multiline)).strip()
    if max_length is not None and len(kept) > max_length:
        raise ValidationFailed(f"At most {max_length} characters, please.")
    return kept


def clean_name(text, *, max_length: int) -> str:
    """clean_text for a name: one line, and refused when nothing visible is left."""
    name = clean_text(text, max_length=max_length)
    if not has_visible(name):
        raise ValidationFailed("A name needs at least one visible character.")
    return name


def clean_optional_name(text, *, max_length: int) -> str | None:
    """A name from outside (Telegram), cleaned and cut to `max_length`; None when nothing visible is left."""
    name = clean_text(text)[:max_length]
    return name if has_visible(name) else None


def has_visible(text: str) -> bool:
    """Whether `text` has a character that shows (not whitespace, not a format character such as ZWSP)."""
    return any(not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc", "Cs", "Zs") for ch in text)


def has_control_characters(text: str) -> bool:
    """NUL and other control characters besides newlines and tabs; lone surrogates."""
    return any(_dropped(ch, multiline=True) for ch in text)


def check_day(day: date | None) -> date | None:
    """`day` if it lies between MIN_DAY and MAX_DAY, else ValidationFailed."""
    if day is not None and not MIN_DAY <= day <= MAX_DAY:
        raise ValidationFailed(f"Choose a date between {MIN_DAY.isoformat()} and {MAX_DAY.isoformat()}.")
    return day


def _dropped(ch: str, multiline: bool) -> bool:
    category = unicodedata.category(ch)
    if category == "Cs":
        return True
    return category == "Cc" and not (multiline and ch in _KEPT_IN_MULTILINE)
