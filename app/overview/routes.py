"""Today and the last 30 days at a glance."""
from flask import redirect, render_template, request, url_for

from app.auth.forms import EmptyForm
from app.models import TenantNotice
from app.overview import bp, chart_views
from app.services import notices, overview, sales_charts
from app.tenant_context import get_owned_or_404
from app.web import owner_only, readers, save, submitted, tenant_or_404


@bp.route("/")
@readers
def index():
    tenant = tenant_or_404()
    summary = overview.summary(tenant)
    grain = request.args.get("grain", "day")
    grain = grain if grain in sales_charts.GRAINS else "day"
    charts = {**chart_views.sales(tenant, grain, summary["today"]), **chart_views.rankings(tenant),
              "traffic": chart_views.traffic(summary["days"])}
    return render_template("overview/index.html", s=summary, charts=charts, grain=grain,
                           grains=chart_views.grain_titles(), notices=notices.unread(tenant),
                           dismiss_form=EmptyForm())


@bp.route("/notices/<int:notice_id>/dismiss", methods=["POST"])
@owner_only
def dismiss_notice(notice_id: int):
    notice = get_owned_or_404(TenantNotice, notice_id)
    if submitted(EmptyForm()):
        save(lambda: notices.dismiss(tenant_or_404(), notice.id))
    return redirect(url_for("overview.index"))

