"""Charts rendered on the server as inline SVG (pygal), so pages need no JavaScript build or CDN.

pygal's own tooltip script (pygal.js) is not published on npm and pygal writes an inline config script
into every chart; a CSP without inline scripts blocks both. So the inline script is cut out here and
static/js/charts.js shows the tooltips from the `<desc>` nodes pygal writes for each value.
Figures go through `digits` (Persian digits on Persian pages when the owner keeps them on).
"""
from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable

import pygal
from markupsafe import Markup
from pygal.style import Style

STYLE = Style(background="transparent", plot_background="transparent",
              colors=("#0d6efd", "#fd7e14", "#20c997", "#6f42c1", "#dc3545"),
              font_family="Vazirmatn, Tahoma, system-ui, sans-serif", label_font_size=13,
              major_label_font_size=13, legend_font_size=14, title_font_size=16, tooltip_font_size=14,
              value_font_size=13)
#: A full-width chart; WIDE=False draws for a half-width card (fewer pixels, so the same text is larger).
HEIGHT, WIDTH, HALF_WIDTH = 380, 1000, 620
#: Rendered charts kept per process (each 10–40 KB of SVG): the overview draws six, ~25 ms each in pygal.
REMEMBERED = 256
#: Every character a value's text can hold: `digits` maps characters one by one (app.i18n.local_digits),
#: so what it makes of these says all there is to know about it.
_DIGITS_PROBE = "0123456789,.-"
_rendered: OrderedDict[tuple, Markup] = OrderedDict()
_rendered_lock = threading.Lock()


def remembered(draw):
    """Keep what `draw` rendered: a chart is a pure function of its title, labels, figures, digits and
    options, so a page shown again with the same figures reuses the SVG and new figures draw a new one."""
    @functools.wraps(draw)
    def cached(title: str, labels: list[str], series: dict[str, list], digits: Callable[[str], str] = str,
               **options) -> Markup:
        key = (draw.__name__, title, tuple(labels), tuple((name, tuple(values)) for name, values in series.items()),
               digits(_DIGITS_PROBE), tuple(sorted(options.items())))
        with _rendered_lock:
            if key in _rendered:
                _rendered.move_to_end(key)
                return _rendered[key]
        svg = draw(title, labels, series, digits, **options)
        with _rendered_lock:
            _rendered[key] = svg
            while len(_rendered) > REMEMBERED:
                _rendered.popitem(last=False)
        return svg
    return cached


def forget_rendered() -> None:
    """Drop every remembered chart (the bench measures a first showing with it)."""
    with _rendered_lock:
        _rendered.clear()


def _config(title: str, digits: Callable[[str], str], **extra) -> pygal.Config:
    extra.setdefault("height", HEIGHT)
    extra.setdefault("width", WIDTH)
    return pygal.Config(js=[], disable_xml_declaration=True, style=STYLE, title=title, margin_bottom=28,
                        show_legend=True, legend_at_bottom=True, legend_at_bottom_columns=3, truncate_legend=-1,
                        x_label_rotation=0, show_minor_x_labels=False, truncate_label=-1, margin=16,
                        legend_box_size=14,
                        value_formatter=lambda v: digits(f"{v:,.0f}" if v == int(v) else f"{v:,.2f}"),
                        **extra)


@remembered
def bar_chart(title: str, labels: list[str], series: dict[str, list], digits: Callable[[str], str] = str,
              stacked: bool = False, half: bool = False) -> Markup:
    kind = pygal.StackedBar if stacked else pygal.Bar
    return _render(kind(_config(title, digits, width=HALF_WIDTH if half else WIDTH)), labels, series)


@remembered
def line_chart(title: str, labels: list[str], series: dict[str, list], digits: Callable[[str], str] = str) -> Markup:
    return _render(pygal.Line(_config(title, digits, fill=False, dots_size=4)), labels, series)


@remembered
def ranking_chart(title: str, labels: list[str], series: dict[str, list], digits: Callable[[str], str] = str) -> Markup:
    """Horizontal bars (top plans, cards against their caps): long names stay readable."""
    chart = pygal.HorizontalBar(_config(title, digits, width=HALF_WIDTH,
                                        height=max(240, 110 + 40 * len(labels) * len(series))))
    return _render(chart, labels, series, every_label=True)


def _render(chart, labels: list[str], series: dict, every_label: bool = False) -> Markup:
    chart.add_xml_filter(_without_scripts)
    chart.x_labels = labels
    # A label every few bars when there are many (30 days); every one for 12 weeks or months.
    chart.x_labels_major = labels if every_label or len(labels) <= 12 else labels[::max(1, len(labels) // 6)]
    for name, values in series.items():
        chart.add(name, values)
    return Markup(chart.render(is_unicode=True))


def _without_scripts(root):
    """Drop the inline <script> pygal always writes (its tooltip config, unused with js=[]): the CSP refuses it."""
    for parent in root.iter():
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return root
