"""Charts: the page carries each chart's figures, and static/js/charts.js draws them as SVG in the browser.

A chart is a `<figure class="chart-figure">` holding its figures twice: as JSON in a `data-chart` attribute
(the dashboard runs no inline script: the CSP allows only this site's files) for the drawing, and as a
table with the same numbers, its caption the chart's title. The table is what a page without JavaScript
shows and what a screen reader reads; once charts.js has drawn the SVG (role="img", labelled by the
title) it hides the table visually, keeping it for assistive technology.

Nothing is drawn on the server (it cost ~25 ms per chart in pygal), so every showing costs the same few
microseconds per figure. Figures go through `digits` (Persian digits on Persian pages when the owner keeps
them on): each value's text is formatted here, and the axis figures charts.js writes are mapped with
`digits` of "0123456789,.-" character by character, as app.i18n.local_digits maps them.
"""
from __future__ import annotations

import json
from collections.abc import Callable

from markupsafe import Markup, escape

#: A full-width chart's drawing size; half=True draws for a half-width card (fewer pixels, so the same
#: text is larger). The SVG scales to its card's width.
HEIGHT, WIDTH, HALF_WIDTH = 380, 1000, 620
#: Every character a figure's text can hold: what `digits` makes of them tells charts.js how to write its
#: axis figures.
DIGITS_PROBE = "0123456789,.-"
#: At most this many x labels on a category axis (30 days get one every few bars; 12 weeks every one).
MAX_X_LABELS = 12


def plain(value) -> int | float:
    """A figure as JSON can hold it: Postgres sums come as Decimal, a missing figure as None (0)."""
    if isinstance(value, int):
        return value
    number = float(value or 0)
    return int(number) if number.is_integer() else number


def value_text(value, digits: Callable[[str], str] = str) -> str:
    return digits(f"{value:,.0f}" if value == int(value) else f"{value:,.2f}")


def bar_chart(title: str, labels: list[str], series: dict[str, list], digits: Callable[[str], str] = str,
              stacked: bool = False, half: bool = False) -> Markup:
    return _figure("stacked" if stacked else "bar", title, labels, series, digits,
                   width=HALF_WIDTH if half else WIDTH, height=HEIGHT)


def line_chart(title: str, labels: list[str], series: dict[str, list], digits: Callable[[str], str] = str) -> Markup:
    return _figure("line", title, labels, series, digits, width=WIDTH, height=HEIGHT)


def ranking_chart(title: str, labels: list[str], series: dict[str, list], digits: Callable[[str], str] = str) -> Markup:
    """Horizontal bars (top plans, cards against their caps): long names stay readable, every one labelled."""
    return _figure("ranking", title, labels, series, digits, width=HALF_WIDTH,
                   height=max(240, 110 + 40 * len(labels) * len(series)))


def spec(kind: str, title: str, labels: list[str], series: dict[str, list], digits: Callable[[str], str] = str,
         *, width: int = WIDTH, height: int = HEIGHT) -> dict:
    """What charts.js needs to draw one chart: plain JSON. `digits` is asked once, about DIGITS_PROBE (on a
    Persian page it reads the owner's setting), and its answer maps every figure's text."""
    every = kind == "ranking" or len(labels) <= MAX_X_LABELS
    mapped = digits(DIGITS_PROBE)
    table = str.maketrans(DIGITS_PROBE, mapped) if len(mapped) == len(DIGITS_PROBE) else None
    local = (lambda text: text.translate(table)) if table is not None else digits
    return {
        "kind": kind, "title": title, "width": width, "height": height, "labels": list(labels),
        "label_every": 1 if every else max(1, len(labels) // 6), "digits": mapped,
        "series": [{"name": name, "values": [plain(v) for v in values],
                    "texts": [value_text(plain(v), local) for v in values]} for name, values in series.items()],
    }


def _figure(kind: str, title: str, labels: list[str], series: dict[str, list], digits, **size) -> Markup:
    data = spec(kind, title, labels, series, digits, **size)
    head = "".join(f'<th scope="col">{escape(s["name"])}</th>' for s in data["series"])
    rows = "".join(
        f'<tr><th scope="row">{escape(label)}</th>'
        + "".join(f"<td>{escape(s['texts'][i])}</td>" for s in data["series"]) + "</tr>"
        for i, label in enumerate(data["labels"]))
    return Markup(
        f'<figure class="chart-figure mb-0" data-chart="{escape(json.dumps(data, ensure_ascii=False))}">'
        f'<table class="table table-sm chart-data mb-0"><caption class="caption-top">{escape(title)}</caption>'
        f'<thead><tr><td></td>{head}</tr></thead><tbody>{rows}</tbody></table></figure>')
