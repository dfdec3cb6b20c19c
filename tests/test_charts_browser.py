"""The overview's and the wallet's charts drawn in a real browser by static/js/charts.js (Playwright, chromium):
every figure the page carries becomes an SVG with one bar or dot per value, its table stays for screen
readers, a bar shows its tooltip on hover and on keyboard focus, and a Persian page writes Persian digits."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.models import Subscription
from app.services import clock
from tests.test_dashboard_browser import browser, live_server, shot  # noqa: F401
from tests.test_dashboard_csp_browser import signed_in_page

FIGURES = ".chart-figure[data-chart]"


def drawn(page) -> list[dict]:
    """Per chart figure: kind, whether drawn, bars/dots drawn, values carried, and whether the table is hidden."""
    return page.eval_on_selector_all(FIGURES, """figures => figures.map(f => {
        const spec = JSON.parse(f.dataset.chart);
        return {kind: spec.kind, drawn: f.dataset.drawn === "true",
                marks: f.querySelectorAll("svg .tooltip-trigger").length,
                values: spec.series.reduce((n, s) => n + s.values.length, 0),
                table_hidden: f.querySelector("table.chart-data").classList.contains("visually-hidden"),
                svg_label: (f.querySelector("svg") || {getAttribute: () => null}).getAttribute("aria-label")};
    })""")


@pytest.mark.timeout(120)
def test_the_charts_draw_in_the_browser_with_tooltips_and_persian_digits(browser, live_server, db, make):  # noqa: F811
    owner = make.account()
    tenant = make.tenant(owner=owner)
    plan = make.plan(tenant, name="Gold")
    member = make.member(tenant)
    at = clock.now() - timedelta(minutes=5)
    db.session.add(Subscription(tenant_id=tenant.id, member_id=member.id, plan_id=plan.id, status="active",
                                starts_at=at, ends_at=at + timedelta(days=30), source="balance", created_at=at))
    make.card(tenant, daily_cap=1_000_000)
    db.session.commit()

    page, log = signed_in_page(browser, live_server, owner.email)
    page.goto(f"{live_server}/overview/")
    page.wait_for_selector(f"{FIGURES}[data-drawn=true]")
    charts = drawn(page)
    assert sorted(c["kind"] for c in charts) == ["bar", "bar", "line", "ranking", "ranking", "stacked"]
    for chart in charts:
        assert chart["drawn"] and chart["table_hidden"] and chart["svg_label"], chart
        assert chart["marks"] == chart["values"] > 0, chart
    assert page.locator("#chart-revenue svg").bounding_box()["width"] > 300

    bar = page.locator("#chart-top-plans svg .tooltip-trigger").first
    bar.hover()
    tooltip = page.locator(".chart-tooltip")
    assert tooltip.is_visible() and "Gold" in tooltip.inner_text() and "1" in tooltip.inner_text()
    page.mouse.move(0, 0)
    page.locator("#chart-cards svg .tooltip-trigger").nth(1).focus()
    assert tooltip.is_visible() and "1,000,000" in tooltip.inner_text()
    # the table is out of sight but still in the accessibility tree
    assert page.get_by_role("table").filter(has_text="1,000,000").count() == 1
    shot(page, "charts-overview")

    page.click("#language-switch button[value=fa]")
    page.wait_for_selector(f"{FIGURES}[data-drawn=true]")
    axis = page.locator("#chart-cards svg .chart-axis").text_content()
    assert "۱" in axis and not any(d in axis for d in "123456789"), axis
    assert "۱٬۰۰۰٬۰۰۰" in page.locator("#chart-cards table").text_content()
    shot(page, "charts-overview-fa")

    page.goto(f"{live_server}/wallet/")
    page.wait_for_selector(f"{FIGURES}[data-drawn=true]")
    assert [c["kind"] for c in drawn(page)] == ["line"]
    assert log.seen == []
