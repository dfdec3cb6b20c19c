"""The landing page, the tenant switcher and the language switch."""
from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from app import i18n, unit_of_work
from app.auth.forms import EmptyForm
from app.main import bp
from app.models import Role
from app.tenant_context import current_membership, switch_tenant
from app.web import safe_next


@bp.route("/")
@login_required
def home():
    """Send each role to its first page."""
    membership = current_membership()
    if membership is None:
        if current_user.is_platform_admin and "platform.tenants" in current_app.view_functions:
            return redirect(url_for("platform.tenants"))
        return render_template("main/home.html")
    if membership.role == Role.APPROVER.value:
        return redirect(url_for("receipts.index"))
    if membership.role == Role.SUPPORT.value:
        return redirect(url_for("tickets.index"))
    return redirect(url_for("overview.index"))


@bp.route("/tenant", methods=["POST"], endpoint="switch_tenant")
@login_required
def switch_tenant_view():
    if not EmptyForm().validate_on_submit():
        abort(400)
    tenant_id = request.form.get("tenant_id", type=int)
    if tenant_id is None or not switch_tenant(tenant_id):
        abort(404)
    return redirect(url_for("main.home"))


@bp.route("/language", methods=["POST"])
def set_language():
    """Remember the chosen language in the session and, when signed in, on the account."""
    language = request.form.get("language")
    if not EmptyForm().validate_on_submit() or language not in current_app.config["LANGUAGES"]:
        abort(400)
    session[i18n.SESSION_KEY] = language
    if current_user.is_authenticated:
        current_user.language = language
        unit_of_work.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("main.home"))
