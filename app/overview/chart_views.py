"""The overview's charts: figures from app.services.sales_charts, labels and digits in the page's language."""
from __future__ import annotations

from datetime import date

import jdatetime
from flask_babel import format_date as babel_date
from flask_babel import gettext as _

from app import charts
from app.i18n import current_language, local_digits, text_direction
from app.services import sales_charts

GB = 1024 ** 3


def calendar() -> str:
    """Persian pages count weeks from Saturday and months in the Jalali calendar."""
    return "jalali" if current_language() == "fa" else "gregorian"


def bucket_label(day: date, grain: str) -> str:
    if calendar() == "jalali":
        jday = jdatetime.date.fromgregorian(date=day)
        text = f"{jdatetime.date.j_months_fa[jday.month - 1]} {jday.year}" if grain == "month" \
            else jday.strftime("%m/%d")
        return local_digits(text)
    return babel_date(day, "LLL y" if grain == "month" else "MMM d")


def rtl(text: str) -> str:
    """On right-to-left pages a chart text is a right-to-left isolate: the charts' SVG runs left to right
    (so legends sit after their swatches), and a trailing ٪ or a parenthesis would land on the wrong side."""
    return f"\u2067{text}\u2069" if text_direction() == "rtl" else text


def grain_titles() -> dict[str, str]:
    return {"day": _("Day"), "week": _("Week"), "month": _("Month")}


def _draw(draw, title: str, labels: list[str], series: dict, **options):
    return draw(rtl(title), labels, {rtl(name): values for name, values in series.items()}, local_digits, **options)


def sales(tenant, grain: str, today=None) -> dict:
    """`today`: the overview's live figures of today (sales_charts.periods counts them otherwise)."""
    buckets = sales_charts.periods(tenant, grain, calendar(), live=today)
    labels = [bucket_label(b.start, grain) for b in buckets]
    started = sum(b.new_members for b in buckets)
    bought = sum(b.new_buyers for b in buckets)
    rate = local_digits(f"{100 * bought / started:.0f}") if started else local_digits("0")
    by = {"day": _("Revenue by day (Toman)"), "week": _("Revenue by week (Toman)"),
          "month": _("Revenue by month (Toman)")}[grain]
    return {
        "revenue": _draw(charts.bar_chart, by, labels, {_("Revenue"): [b.revenue for b in buckets]}),
        "buyers": _draw(charts.bar_chart, _("New and returning buyers"), labels, {
            _("New buyers"): [b.new_buyers for b in buckets],
            _("Returning buyers"): [b.returning_buyers for b in buckets]}, stacked=True, half=True),
        "conversions": _draw(charts.bar_chart, _("Started the bot → first purchase: %(rate)s%%", rate=rate), labels, {
            _("Started (/start)"): [b.new_members for b in buckets],
            _("Bought for the first time"): [b.new_buyers for b in buckets]}, half=True),
    }


def rankings(tenant) -> dict:
    plans = sales_charts.top_plans(tenant)
    cards = sales_charts.card_loads(tenant)
    return {
        "top_plans": _draw(charts.ranking_chart, _("Top plans, last 30 days (purchases)"),
                           [rtl(name) for name, _n in plans], {_("Purchases"): [n for _name, n in plans]})
        if plans else None,
        "cards": _draw(charts.ranking_chart, _("Cards today: received and daily cap (Toman)"),
                       [rtl(local_digits(c.label)) for c in cards], {
                           _("Received today"): [c.received_today for c in cards],
                           _("Daily cap"): [c.daily_cap for c in cards]}) if cards else None,
    }


def traffic(days) -> object:
    return _draw(charts.line_chart, _("Traffic per day (GB)"), [bucket_label(d.day, "day") for d in days], {
        _("Sold"): [round(d.traffic_sold_bytes / GB, 2) for d in days],
        _("Consumed"): [round(d.traffic_consumed_bytes / GB, 2) for d in days]})
