"""Charts rendered on the server as inline SVG (pygal), so pages need no JavaScript build or CDN."""
from __future__ import annotations

import pygal
from markupsafe import Markup
from pygal.style import Style

STYLE = Style(background="transparent", plot_background="transparent", colors=("#0d6efd", "#fd7e14", "#20c997"),
              font_family="system-ui, sans-serif")


def _config(**extra) -> pygal.Config:
    # js=[]: pygal otherwise links its tooltip script from a CDN.
    return pygal.Config(js=[], disable_xml_declaration=True, style=STYLE, height=260, show_legend=True,
                        legend_at_bottom=True, x_label_rotation=0, show_minor_x_labels=False,
                        truncate_label=-1, **extra)


def bar_chart(title: str, labels: list[str], series: dict[str, list[int]]) -> Markup:
    return _render(pygal.Bar(_config(title=title)), labels, series)


def line_chart(title: str, labels: list[str], series: dict[str, list[float]]) -> Markup:
    return _render(pygal.Line(_config(title=title, fill=False)), labels, series)


def _render(chart, labels: list[str], series: dict) -> Markup:
    chart.add_xml_filter(_without_scripts)
    chart.x_labels = labels
    chart.x_labels_major = labels[::7]
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
