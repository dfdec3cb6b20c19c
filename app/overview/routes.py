"""Today and the last 30 days at a glance."""
from flask import redirect, render_template, url_for
from flask_babel import gettext as _

from app import charts
from app.auth.forms import EmptyForm
from app.i18n import format_date
from app.models import TenantNotice
from app.overview import bp
from app.services import notices, overview
from app.tenant_context import get_owned_or_404
from app.web import owner_only, readers, save, submitted, tenant_or_404

GB = 1024 ** 3


@bp.route("/")
@readers
def index():
    tenant = tenant_or_404()
    summary = overview.summary(tenant)
    return render_template("overview/index.html", s=summary, charts=_charts(summary["days"]),
                           notices=notices.unread(tenant), dismiss_form=EmptyForm())


@bp.route("/notices/<int:notice_id>/dismiss", methods=["POST"])
@owner_only
def dismiss_notice(notice_id: int):
    notice = get_owned_or_404(TenantNotice, notice_id)
    if submitted(EmptyForm()):
        save(lambda: notices.dismiss(tenant_or_404(), notice.id))
    return redirect(url_for("overview.index"))


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
