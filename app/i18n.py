"""Dashboard language (Flask-Babel) and the Jinja filters for Toman, Jalali dates and ages."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import jdatetime
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_timedelta, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import babel
from app.services import clock

SESSION_KEY = "lang"
RTL_LANGUAGES = {"fa"}
DEFAULT_TIMEZONE = "Asia/Tehran"
#: Where a request keeps its page's language, digits and time zone (in its WSGI environ: nothing outlives it).
PAGE_FORMAT = "botfleet.page_format"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_language)
    app.jinja_env.filters.update(toman=format_toman, number=format_number, jdate=format_date,
                                 jdatetime=format_datetime, age=format_age, ago=format_ago, gb=format_gb,
                                 digits=local_digits)
    app.context_processor(lambda: {"current_language": current_language(), "text_direction": text_direction()})


def select_language() -> str:
    """The account's language, else the one chosen in this session, else the default (Persian)."""
    languages = current_app.config["LANGUAGES"]
    chosen = getattr(current_user, "language", None) if current_user and current_user.is_authenticated else None
    chosen = chosen or session.get(SESSION_KEY)
    return chosen if chosen in languages else languages[0]


def once_per_request(key: str, compute):
    """`compute()`, worked out once per request: a page asks its language, digits and zone for every figure and
    date it shows (a 50-row member list, a few hundred times) and they do not change within it. Outside a
    request, at every call."""
    if not has_request_context():
        return compute()
    known = request.environ.setdefault(PAGE_FORMAT, {})
    if key not in known:
        known[key] = compute()
    return known[key]


def current_language() -> str:
    return once_per_request("language", lambda: str(get_locale() or current_app.config["LANGUAGES"][0]))


def text_direction() -> str:
    return "rtl" if current_language() in RTL_LANGUAGES else "ltr"


_PERSIAN_DIGITS = str.maketrans("0123456789,", "۰۱۲۳۴۵۶۷۸۹٬")


def persian_digits_on() -> bool:
    """Persian pages show Persian digits unless the tenant turned the `persian_digits` setting off."""
    return once_per_request("persian_digits", _persian_digits_on)


def _persian_digits_on() -> bool:
    if current_language() != "fa":
        return False
    from app.services import settings
    from app.tenant_context import current_tenant

    tenant = current_tenant() if current_user and current_user.is_authenticated else None
    return settings.get(tenant, "persian_digits") if tenant is not None else True


def local_digits(text) -> str:
    """`text` with Persian digits (and thousands separator) when the page shows them; unchanged otherwise."""
    text = str(text)
    return text.translate(_PERSIAN_DIGITS) if persian_digits_on() else text


def format_number(value) -> str:
    """A whole number with thousands separators: 1250000 → 1,250,000 (۱٬۲۵۰٬۰۰۰ with Persian digits)."""
    return local_digits(f"{int(value or 0):,}")


def format_toman(value) -> str:
    return _("%(amount)s Toman", amount=format_number(value))


def format_gb(value_bytes) -> str:
    """Bytes as GB with one decimal."""
    return _("%(gb)s GB", gb=local_digits(f"{(value_bytes or 0) / 1024 ** 3:,.1f}"))


def local_zone() -> ZoneInfo:
    """The tenant's time zone (the default one outside a tenant's page)."""
    return once_per_request("zone", _local_zone)


def _local_zone() -> ZoneInfo:
    from app.tenant_context import current_tenant

    tenant = current_tenant() if current_user and current_user.is_authenticated else None
    return ZoneInfo(tenant.timezone if tenant else DEFAULT_TIMEZONE)


def format_datetime(value: datetime | None) -> str:
    """A UTC datetime in the tenant's zone: Jalali in Persian, ISO-like otherwise."""
    if value is None:
        return "—"
    local = value.astimezone(local_zone())
    if current_language() == "fa":
        return local_digits(jdatetime.datetime.fromgregorian(datetime=local).strftime("%Y/%m/%d %H:%M"))
    return local.strftime("%Y-%m-%d %H:%M")


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(local_zone()).date()
    if current_language() == "fa":
        return local_digits(jdatetime.date.fromgregorian(date=value).strftime("%Y/%m/%d"))
    return value.isoformat()


def format_age(value: datetime | None) -> str:
    """How long ago: 5 min, 3 h, 2 d."""
    if value is None:
        return "—"
    minutes = int((datetime.now(UTC) - value).total_seconds() // 60)
    if minutes < 60:
        return _("%(n)s min", n=local_digits(max(minutes, 0)))
    if minutes < 48 * 60:
        return _("%(n)s h", n=local_digits(minutes // 60))
    return _("%(n)s d", n=local_digits(minutes // (24 * 60)))


def format_ago(value: datetime | None) -> str:
    """How long ago, in words and in the page's language: "3 hours ago" (۳ ساعت پیش); "never" when None.

    Babel's words, to the minute; a moment under a minute ago (or a little ahead, a clock's skew) reads as a minute ago.
    """
    if value is None:
        return _("never")
    ago = min(value - clock.now(), -timedelta(minutes=1))
    return local_digits(format_timedelta(ago, granularity="minute", add_direction=True))
