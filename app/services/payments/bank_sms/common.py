"""What every bank's deposit SMS parser shares: digits, Rial amounts, account/card tails, Jalali date and time."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import jdatetime

TEHRAN = ZoneInfo("Asia/Tehran")
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
#: Arabic letters some banks' gateways still send, and invisible marks.
_LETTERS = str.maketrans({"ي": "ی", "ك": "ک", "\u200c": " ", "\u200f": "", "\u200e": "", "٬": ",", "،": ","})
WITHDRAWAL = re.compile(r"برداشت|خرید|بدهکار|کسر|انتقال از|withdraw|purchase|debit|پرداخت قبض|رمز|کد تایید|"
                        r"کد تأیید|OTP|password", re.I)
AMOUNT = r"([0-9][0-9,]{2,15})"
DATE = re.compile(r"(?<!\d)(1[34]\d{2}|\d{2})[/\-.](\d{1,2})[/\-.](\d{1,2})(?!\d)|(?<!\d)(1[34]\d{2})(\d{2})(\d{2})(?!\d)")
#: A signed amount: "1,500,000-" or "-1,500,000" is money going out.
MINUS = re.compile(r"\d{1,3}(?:,\d{3})+\s*-(?!\d)|(?<![\w\d])-\s*\d{1,3}(?:,\d{3})+")
TIME = re.compile(r"(?<!\d)([01]?\d|2[0-3]):([0-5]\d)(?::[0-5]\d)?(?!\d)")
TAIL = re.compile(r"(?:حساب|کارت|سپرده|acc(?:ount)?|card|به)\s*[:.]?\s*(?:[0-9*xX.\-]*)(\d{4})(?!\d)", re.I)


@dataclass(frozen=True)
class Deposit:
    bank: str
    #: Toman (the SMS says Rial; Rial / 10, rounded down).
    amount: int
    rial: int
    #: Last four digits of the account or card credited.
    tail: str | None
    #: When the bank says the deposit happened (UTC), if the SMS has a date and time.
    at: datetime | None
    #: What the tail belongs to: "card", "account" (an account or deposit number), or None if the SMS does not say.
    tail_kind: str | None = None


class Refused(Exception):
    """Not a deposit we can read: the reason is stored with the message, nothing is guessed."""


def normalize(text: str) -> str:
    return (text or "").translate(_DIGITS).translate(_LETTERS)


def is_withdrawal(text: str) -> bool:
    return bool(WITHDRAWAL.search(text) or MINUS.search(text))


WELL_FORMED = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")


def rial(value: str) -> int:
    """A Rial amount written 1,500,000 or 1500000; anything else (1,5,,) is refused."""
    value = value.rstrip(",")
    if not WELL_FORMED.fullmatch(value):
        raise Refused("the amount is not a well-formed number")
    return int(value.replace(",", ""))


def first_amount(text: str, *patterns: str) -> int:
    """The Rial amount after the first of `patterns` that matches (each with one AMOUNT group)."""
    for pattern in patterns:
        match = re.search(pattern, text, re.I)
        if match:
            return rial(match.group(1))
    raise Refused("no deposit amount found")


CARD_WORDS = re.compile(r"کارت|card|\*", re.I)
ACCOUNT_WORDS = re.compile(r"حساب|سپرده|acc|\d[.\-]\d", re.I)


def tail_of(text: str, *patterns: str) -> tuple[str | None, str | None]:
    """(the last four digits of the account or card credited, "card" / "account" / None)."""
    for pattern in patterns + (TAIL.pattern,):
        match = re.search(pattern, text, re.I)
        if match:
            return match.group(1)[-4:], tail_kind(match.group(0))
    return None, None


def tail_kind(words: str) -> str | None:
    """Whether the words that name the tail speak of a card (masked digits too) or an account."""
    if CARD_WORDS.search(words):
        return "card"
    return "account" if ACCOUNT_WORDS.search(words) else None


def jalali_moment(text: str, now: datetime | None = None) -> datetime | None:
    """The SMS's Jalali date and time in Tehran as UTC; a date without the year (MMDD) takes the current one."""
    date_match, time_match = DATE.search(text), TIME.search(text)
    if not date_match or not time_match:
        return None
    groups = date_match.groups()
    year, month, day = (int(g) for g in (groups[:3] if groups[0] else groups[3:]))
    year = year + 1400 if year < 100 else year
    try:
        local = jdatetime.datetime(year, month, day, int(time_match.group(1)), int(time_match.group(2))).togregorian()
    except ValueError:
        return None
    return local.replace(tzinfo=TEHRAN).astimezone(UTC)


def deposit(bank: str, text: str, *, amount_patterns: tuple[str, ...], tail_patterns: tuple[str, ...] = ()) -> Deposit:
    """The usual shape: refuse withdrawals, then amount, tail and time."""
    if is_withdrawal(text):
        raise Refused("not a deposit (withdrawal, purchase or code)")
    value = first_amount(text, *amount_patterns)
    if value < 10:
        raise Refused("amount too small")
    tail, kind = tail_of(text, *tail_patterns)
    return Deposit(bank=bank, amount=value // 10, rial=value, tail=tail, at=jalali_moment(text), tail_kind=kind)


__all__ = ["AMOUNT", "Deposit", "Refused", "deposit", "normalize", "timedelta"]
