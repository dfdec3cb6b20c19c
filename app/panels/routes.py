"""VPN panels: list, add, edit, connection test, drift report, plan mapping, and the member's service actions."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.forms import EmptyForm
from app.models import Member, Panel, PanelUser, Plan
from app.panels import bp
from app.panels.forms import KIND_LABELS, ON_CANCEL_LABELS, PanelForm, PlanPanelForm
from app.services import audit
from app.services import plans as plan_service
from app.services.panels import admin, provisioning, services
from app.tenant_context import get_owned_or_404
from app.web import owner_only, readers, save, submitted, tenant_or_404


@bp.app_template_global("member_services")
def member_services(member: Member) -> list:
    """The member page's VPN services (link, days left, traffic)."""
    return services.services_of(member)


@bp.route("/")
@readers
def index():
    tenant = tenant_or_404()
    return render_template("panels/index.html", panels=admin.panels_of(tenant), kind_labels=KIND_LABELS,
                           plans=plan_service.active_plans(tenant), mappings=admin.mappings_of(tenant),
                           button_form=EmptyForm())


@bp.route("/new", methods=["GET", "POST"])
@owner_only
def create():
    form = PanelForm()
    if form.validate_on_submit():
        panel = save(lambda: admin.create_panel(tenant_or_404(), kind=form.kind.data, actor=_actor(),
                                                **form.service_fields()), form, "base_url")
        if panel:
            flash(_("Panel %(name)s added. Test the connection below.", name=panel.name), "success")
            return redirect(url_for("panels.show", panel_id=panel.id))
    return render_template("panels/form.html", form=form, panel=None)


@bp.route("/<int:panel_id>")
@readers
def show(panel_id: int):
    panel = get_owned_or_404(Panel, panel_id)
    return render_template("panels/show.html", panel=panel, kind_labels=KIND_LABELS,
                           on_cancel_labels=ON_CANCEL_LABELS, hint=admin.credential_hint(panel),
                           button_form=EmptyForm())


@bp.route("/<int:panel_id>/edit", methods=["GET", "POST"])
@owner_only
def edit(panel_id: int):
    panel = get_owned_or_404(Panel, panel_id)
    form = PanelForm(obj=panel)
    form.kind.render_kw = {"disabled": True}
    form.kind.data = panel.kind
    if form.validate_on_submit():
        done = save(lambda: admin.update_panel(panel, is_active=form.is_active.data, actor=_actor(),
                                               **form.service_fields()), form, "base_url")
        if done:
            flash(_("Panel %(name)s saved.", name=panel.name), "success")
            return redirect(url_for("panels.show", panel_id=panel.id))
    return render_template("panels/form.html", form=form, panel=panel)


@bp.route("/<int:panel_id>/test", methods=["POST"])
@owner_only
def test(panel_id: int):
    panel = get_owned_or_404(Panel, panel_id)
    submitted(EmptyForm())
    error = save(lambda: admin.test_connection(panel) or "")
    if error:
        flash(_("Connection failed: %(reason)s", reason=error), "danger")
    elif error is not None:
        flash(_("Connection works: logged in and read the user list."), "success")
    return redirect(url_for("panels.show", panel_id=panel.id))


@bp.route("/plans/<int:plan_id>", methods=["GET", "POST"])
@owner_only
def plan(plan_id: int):
    tenant, plan_row = tenant_or_404(), get_owned_or_404(Plan, plan_id)
    mapping = admin.mappings_of(tenant).get(plan_row.id)
    form = PlanPanelForm(panel_id=mapping.panel_id if mapping else 0)
    form.panel_id.choices = [(0, _("No panel: this plan provisions nothing"))] + \
        [(p.id, f"{p.name} ({KIND_LABELS[p.kind]})") for p in admin.panels_of(tenant)]
    if request.method == "GET" and mapping:
        form.fill(mapping.options)
    if form.validate_on_submit():
        panel = get_owned_or_404(Panel, form.panel_id.data) if form.panel_id.data else None
        if save(lambda: admin.map_plan(tenant, plan_row, panel, form.options(), actor=_actor()) or True,
                form, "panel_id"):
            flash(_("Plan %(name)s saved.", name=plan_row.name), "success")
            return redirect(url_for("panels.index"))
    return render_template("panels/plan.html", form=form, plan=plan_row)


@bp.route("/services/<int:panel_user_id>/reset-link", methods=["POST"])
@owner_only
def reset_link(panel_user_id: int):
    return _service_action(panel_user_id, provisioning.reset_link, "panel.reset_link",
                           _("A new link is being made; the member gets it in the bot."))


@bp.route("/services/<int:panel_user_id>/reprovision", methods=["POST"])
@owner_only
def reprovision(panel_user_id: int):
    return _service_action(panel_user_id, provisioning.reprovision, "panel.reprovision",
                           _("The service is being applied to the panel again."))


def _service_action(panel_user_id: int, operation, action: str, message: str):
    panel_user = get_owned_or_404(PanelUser, panel_user_id)
    submitted(EmptyForm())

    def run():
        operation(panel_user)
        return audit.record(panel_user.tenant_id, _actor(), action, f"panel_user:{panel_user.id}")
    if save(run):
        flash(message, "success")
    return redirect(url_for("members.show", member_id=panel_user.subscription.member_id))


def _actor() -> str:
    return audit.actor_of(current_user)
