"""Numbers, money and dates the way each language writes them (Jalali and Persian digits in fa)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import jdatetime

from bots.i18n import t

_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def digits(lang: str, value) -> str:
    """`value` as text, with Persian digits in fa."""
    text = str(value)
    return text.translate(_PERSIAN_DIGITS) if lang == "fa" else text


def number(lang: str, value: int) -> str:
    """An integer with thousands separators: 1,250,000 (۱٬۲۵۰٬۰۰۰ in fa)."""
    text = f"{value:,}"
    return digits(lang, text.replace(",", "٬")) if lang == "fa" else text


def money(lang: str, amount: int) -> str:
    """An amount of Toman, e.g. `250,000 Toman`."""
    return t(lang, "unit.toman", amount=number(lang, amount))


def local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone or "Asia/Tehran"))


def date(lang: str, moment: datetime, timezone: str) -> str:
    """The tenant-local calendar date: Jalali (۱۴۰۳/۰۱/۱۵) in fa, ISO elsewhere."""
    moment = local(moment, timezone)
    if lang == "fa":
        return digits(lang, jdatetime.date.fromgregorian(date=moment.date()).strftime("%Y/%m/%d"))
    return moment.strftime("%Y-%m-%d")


def date_time(lang: str, moment: datetime, timezone: str) -> str:
    """The tenant-local date and time to the minute."""
    return f"{date(lang, moment, timezone)} {digits(lang, local(moment, timezone).strftime('%H:%M'))}"


def card_number(number_text: str) -> str:
    """A 16-digit card number in groups of four, always in Latin digits so it copies cleanly."""
    return " ".join(number_text[i:i + 4] for i in range(0, len(number_text), 4))
