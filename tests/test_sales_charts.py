"""The overview's sales charts: buckets by day/week/month, new vs returning buyers, conversions, top plans,
card loads; carried as figures (JSON for static/js/charts.js, a table for everyone) with no inline script,
legible in Persian."""
from __future__ import annotations

import html
import json
import re
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from app.models import DailyStat, Subscription
from app.services import clock, sales_charts
from tests.jobs.conftest import run_job  # noqa: F401

# 10:00 on Sunday 1 March 2026 in Tehran (Jalali 1404/12/10).
NOW = datetime(2026, 3, 1, 6, 30, tzinfo=UTC)
TODAY = date(2026, 3, 1)


def _bought(db, member, plan, at, source="balance"):
    db.session.add(Subscription(tenant_id=member.tenant_id, member_id=member.id, plan_id=plan.id, status="expired",
                                starts_at=at, ends_at=at + timedelta(days=30), source=source, created_at=at))
    db.session.commit()


def test_bucket_starts_follow_the_calendar():
    assert sales_charts.bucket_start(TODAY, "week", "jalali") == date(2026, 2, 28)     # Saturday starts a Persian week
    assert sales_charts.bucket_start(TODAY, "week", "gregorian") == date(2026, 2, 23)  # Monday
    assert sales_charts.bucket_start(TODAY, "month", "gregorian") == date(2026, 3, 1)
    assert sales_charts.bucket_start(TODAY, "month", "jalali") == date(2026, 2, 20)    # 1404/12/01
    months = sales_charts.bucket_starts(TODAY, "month", "jalali")
    assert len(months) == 12 and months[-1] == date(2026, 2, 20) and months[0] == date(2025, 3, 21)  # 1404/01/01


def test_buyers_are_new_once_then_returning_and_free_plans_do_not_count(make, db):
    tenant, other = make.tenant(timezone="Asia/Tehran"), make.tenant()
    plan, alice, bob = make.plan(tenant), make.member(tenant), make.member(tenant)
    _bought(db, alice, plan, NOW - timedelta(days=40))
    _bought(db, alice, plan, NOW - timedelta(hours=1))                    # returning today
    _bought(db, bob, plan, NOW - timedelta(hours=2))                      # new today
    _bought(db, make.member(tenant), plan, NOW - timedelta(hours=2), source="grant")   # given, not bought
    _bought(db, make.member(other), make.plan(other), NOW - timedelta(hours=1))        # another tenant
    start, end = clock.day_bounds(tenant.timezone, TODAY)
    assert db.session.execute(sales_charts.buyers_query(tenant.id, start, end)).one() == (1, 1)


def test_periods_sum_snapshots_and_today_live(make, db):
    tenant = make.tenant(timezone="Asia/Tehran")
    for back, revenue in ((1, 100), (2, 200), (9, 900), (40, 4000)):
        db.session.add(DailyStat(tenant_id=tenant.id, day=TODAY - timedelta(days=back), revenue=revenue,
                                 new_members=back, new_buyers=1, returning_buyers=2))
    db.session.commit()
    plan, member = make.plan(tenant), make.member(tenant)
    _bought(db, member, plan, NOW - timedelta(hours=1))
    with clock.frozen(NOW):
        days = sales_charts.periods(tenant, "day")
        weeks = sales_charts.periods(tenant, "week", "jalali")
        months = sales_charts.periods(tenant, "month", "gregorian")
    assert len(days) == 30 and days[-1].start == TODAY and [d.revenue for d in days[-3:]] == [200, 100, 0]
    assert days[-1].new_buyers == 1 and days[-1].new_members == 1           # today, live
    assert len(weeks) == 12 and weeks[-1].start == date(2026, 2, 28)
    assert [w.revenue for w in weeks[-3:]] == [900, 200, 100] and weeks[-2].returning_buyers == 2
    assert months[-1].revenue == 0 and months[-2].revenue == 1200 and months[-3].revenue == 4000


def test_top_plans_and_card_loads(make, db):
    tenant = make.tenant(timezone="Asia/Tehran")
    gold, silver, old = make.plan(tenant, name="Gold"), make.plan(tenant, name="Silver"), make.plan(tenant, name="Old")
    for _ in range(3):
        _bought(db, make.member(tenant), gold, NOW - timedelta(days=2))
    _bought(db, make.member(tenant), silver, NOW - timedelta(days=1))
    _bought(db, make.member(tenant), old, NOW - timedelta(days=45))
    make.card(tenant, daily_cap=2_000_000, received_today=500_000, received_day=TODAY)
    make.card(tenant, daily_cap=None, received_today=900_000, received_day=TODAY - timedelta(days=1))
    with clock.frozen(NOW):
        assert sales_charts.top_plans(tenant) == [("Gold", 3), ("Silver", 1)]
        loads = sales_charts.card_loads(tenant)
    assert [(c.received_today, c.daily_cap) for c in loads] == [(500_000, 2_000_000), (0, None)]


def chart_of(page: str, chart: str) -> tuple[dict, str]:
    """The figures (data-chart JSON) and the table of the overview's chart `chart`."""
    found = re.search(rf'id="chart-{chart}">\s*<figure class="chart-figure[^"]*" data-chart="([^"]*)">(.*?)</figure>',
                      page, re.S)
    assert found, chart
    return json.loads(html.unescape(found.group(1))), found.group(2)


def test_the_overview_carries_every_chart_as_figures_and_a_table_and_no_inline_script(owner_client, make, db):
    client, tenant, _ = owner_client
    plan = make.plan(tenant, name="Gold")
    _bought(db, make.member(tenant), plan, clock.now() - timedelta(minutes=5))
    make.card(tenant, daily_cap=1_000_000)
    for grain in ("day", "week", "month"):
        page = client.get(f"/overview/?grain={grain}").get_data(as_text=True)
        for chart in ("revenue", "buyers", "conversions", "top-plans", "cards", "traffic"):
            spec, table = chart_of(page, chart)
            assert spec["labels"] and spec["series"] and spec["title"], (grain, chart)
            assert all(len(s["values"]) == len(s["texts"]) == len(spec["labels"]) for s in spec["series"])
            # the table holds every figure the chart draws, under the chart's title
            assert html.escape(spec["title"], quote=False) in table
            assert table.count("<tr>") == len(spec["labels"]) + 1
            assert all(html.escape(t, quote=False) in table for s in spec["series"] for t in s["texts"])
        assert chart_of(page, "buyers")[0]["kind"] == "stacked" and chart_of(page, "top-plans")[0]["kind"] == "ranking"
        assert chart_of(page, "top-plans")[0]["labels"] == ["Gold"] and chart_of(page, "top-plans")[0]["series"][0]["values"] == [1]
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, re.S)
        assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts), scripts
        assert "<svg" not in page.split("<main")[1] and 'src="/static/js/charts.js"' in page
        assert "cdn" not in page.lower().replace("cdn.jsdelivr", "")


def test_persian_charts_use_persian_digits_unless_the_owner_turns_them_off(owner_client, make, db, auth):
    from app.services import settings

    client, tenant, _ = owner_client
    make.card(tenant, daily_cap=1_000_000)
    auth.use_language("fa")
    page = client.get("/overview/?grain=month").get_data(as_text=True)
    spec, table = chart_of(page, "cards")
    assert "۱٬۰۰۰٬۰۰۰" in table and "1,000,000" not in table
    assert "۱٬۰۰۰٬۰۰۰" in spec["series"][1]["texts"] and spec["digits"] == "۰۱۲۳۴۵۶۷۸۹٬.-"
    revenue, table = chart_of(page, "revenue")
    assert "درآمد ماهانه" in revenue["title"] and "درآمد ماهانه" in table and "Revenue" not in table
    assert revenue["title"].startswith("\u2067")  # a right-to-left isolate inside the left-to-right SVG
    settings.update(tenant, {"persian_digits": False}, by="system")
    db.session.commit()
    spec, table = chart_of(client.get("/overview/").get_data(as_text=True), "cards")
    assert "1,000,000" in table and spec["digits"] == "0123456789,.-"


def test_snapshot_job_writes_buyers(make, db, run_job):
    tenant = make.tenant(timezone="Asia/Tehran")
    plan, alice = make.plan(tenant), make.member(tenant)
    _bought(db, alice, plan, NOW - timedelta(days=3))
    _bought(db, alice, plan, NOW - timedelta(hours=1))
    _bought(db, make.member(tenant), plan, NOW - timedelta(hours=1))
    run_job("daily_stats", at=NOW)
    stat = db.session.scalars(sa.select(DailyStat).where(DailyStat.tenant_id == tenant.id, DailyStat.day == TODAY)).one()
    assert (stat.new_buyers, stat.returning_buyers) == (1, 1)


def test_a_chart_carries_plain_json_figures_whatever_the_database_returns():
    from decimal import Decimal

    from app import charts

    spec = charts.spec("bar", "t", ["a", "b", "c", "d"], {"x": [Decimal("1500000"), None, 2.5, Decimal("0.25")]})
    assert spec["series"][0]["values"] == [1_500_000, 0, 2.5, 0.25]
    assert spec["series"][0]["texts"] == ["1,500,000", "0", "2.50", "0.25"]
    assert json.loads(json.dumps(spec)) == spec
