"""One imported member, cleaned: every source reader yields these, the writer stores them.

Cleaning rules (the same for every source):
- a row without a positive integer Telegram id is skipped;
- a balance is whole Toman rounded *down* (a fraction of a Toman is dropped and reported, so an import never
  credits more than the member had); a negative balance skips the row;
- a language we do not speak (fa, en, ru) is left empty and the tenant's default applies;
- text is stripped of NUL and control characters and cut to the column's length.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

#: The languages a member can use in our bots.
MEMBER_LANGUAGES = ("fa", "en", "ru")
MAX_TELEGRAM_ID = 2**53
MAX_BALANCE = 10**12
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class RowRefused(ValueError):
    """A source row that cannot be imported; the message says why."""


@dataclass
class MemberRow:
    telegram_id: int
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    language_code: str | None = None
    balance: int = 0
    vip_level: int = 0
    is_newcomer: bool = True
    created_at: datetime | None = None
    total_xp: int = 0
    badges: list[str] = field(default_factory=list)
    #: bot key (username or id in the source) -> {"session_data": ..., "stats_data": ...}
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    referrer_telegram_id: int | None = None
    #: Problems that did not stop the row (e.g. a dropped fraction of a Toman).
    notes: list[str] = field(default_factory=list)


def telegram_id(value) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise RowRefused(f"no usable Telegram id ({value!r})") from None
    if not 0 < number < MAX_TELEGRAM_ID:
        raise RowRefused(f"Telegram id out of range ({number})")
    return number


def toman(value, notes: list[str]) -> int:
    """Whole Toman, rounded down; refuses negatives and non-numbers."""
    if value is None or value == "":
        return 0
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise RowRefused(f"balance is not a number ({value!r})") from None
    if not amount.is_finite() or amount < 0:
        raise RowRefused(f"negative or invalid balance ({value})")
    whole = int(amount.to_integral_value(rounding=ROUND_DOWN))
    if whole != amount:
        notes.append(f"balance {amount} rounded down to {whole}")
    if whole > MAX_BALANCE:
        raise RowRefused(f"balance too large ({whole})")
    return whole


def text(value, length: int) -> str | None:
    if value is None:
        return None
    cleaned = _CONTROL.sub("", str(value)).strip()
    cleaned = cleaned.strip("\u200b\u200c\u200d\u2060\ufeff")
    return cleaned[:length] or None


def language(value) -> str | None:
    short = (str(value or "").split("-")[0].split("_")[0]).lower()
    return short if short in MEMBER_LANGUAGES else None


def small_int(value, default: int = 0, *, high: int = 10**9) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return min(max(number, 0), high)


def flag(value, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "t", "true", "yes", "y")
    return bool(value)


def moment(value) -> datetime | None:
    """An aware UTC datetime from a datetime, an ISO string or a unix time; None if unreadable."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, (int, float)):
            result = datetime.fromtimestamp(value, tz=UTC)
        elif isinstance(value, datetime):
            result = value
        else:
            result = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return result if result.tzinfo else result.replace(tzinfo=UTC)
