"""Today and the last 30 days at a glance."""
from flask import render_template
from flask_babel import gettext as _

from app import charts
from app.i18n import format_date
from app.overview import bp
from app.services import overview
from app.web import readers, tenant_or_404

GB = 1024 ** 3


@bp.route("/")
@readers
def index():
    summary = overview.summary(tenant_or_404())
    return render_template("overview/index.html", s=summary, charts=_charts(summary["days"]))


def _charts(days) -> dict:
    labels = [format_date(d.day) for d in days]
    return {
        "revenue": charts.bar_chart(_("Revenue per day (Toman)"), labels, {
            _("Approved receipts"): [d.revenue for d in days]}),
        "members": charts.line_chart(_("New members per day"), labels, {
            _("New members"): [d.new_members for d in days]}),
        "traffic": charts.line_chart(_("Traffic per day (GB)"), labels, {
            _("Sold"): [round(d.traffic_sold_bytes / GB, 2) for d in days],
            _("Consumed"): [round(d.traffic_consumed_bytes / GB, 2) for d in days]}),
    }
