"""Plans: list, create, edit, archive, reorder."""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from app.auth.forms import EmptyForm
from app.models import Plan
from app.plans import bp
from app.plans.forms import PlanForm
from app.services import channels
from app.services import plans as plan_service
from app.services.listings import plans_of_tenant
from app.tenant_context import get_owned_or_404
from app.web import owner_only, readers, save, submitted, tenant_or_404


@bp.route("/")
@readers
def index():
    return render_template("plans/index.html", plans=plans_of_tenant(tenant_or_404()), button_form=EmptyForm())


@bp.route("/new", methods=["GET", "POST"])
@owner_only
def create():
    form = _plan_form()
    if form.validate_on_submit():
        fields = form.service_fields()
        is_active = fields.pop("is_active")
        plan = save(lambda: _create(fields, is_active, form.chats.data), form)
        if plan:
            flash(_("Plan “%(name)s” created.", name=plan.name), "success")
            return redirect(url_for("plans.index"))
    return render_template("plans/form.html", form=form, plan=None)


@bp.route("/<int:plan_id>/edit", methods=["GET", "POST"])
@owner_only
def edit(plan_id: int):
    plan = get_owned_or_404(Plan, plan_id)
    form = _plan_form(plan)
    if form.validate_on_submit():
        if save(lambda: channels.set_plan_chats(plan_service.update_plan(plan, **form.service_fields()),
                                                form.chats.data), form):
            flash(_("Plan “%(name)s” saved.", name=plan.name), "success")
            return redirect(url_for("plans.index"))
    return render_template("plans/form.html", form=form, plan=plan)


@bp.route("/<int:plan_id>/archive", methods=["POST"])
@owner_only
def archive(plan_id: int):
    plan = get_owned_or_404(Plan, plan_id)
    submitted(EmptyForm())
    if save(lambda: plan_service.archive_plan(plan)):
        flash(_("Plan “%(name)s” archived; members who hold it keep it.", name=plan.name), "success")
    return redirect(url_for("plans.index"))


@bp.route("/<int:plan_id>/move/<direction>", methods=["POST"])
@owner_only
def move(plan_id: int, direction: str):
    """Move a plan one place up or down in the list members see."""
    plan = get_owned_or_404(Plan, plan_id)
    submitted(EmptyForm())
    if direction not in ("up", "down"):
        abort(404)
    ids = [p.id for p in plans_of_tenant(tenant_or_404())]
    i = ids.index(plan.id)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(ids):
        ids[i], ids[j] = ids[j], ids[i]
        save(lambda: plan_service.reorder_plans(tenant_or_404(), ids))
    return redirect(url_for("plans.index"))


def _create(fields: dict, is_active: bool, chat_ids: list[int]) -> Plan:
    plan = channels.set_plan_chats(plan_service.create_plan(tenant_or_404(), **fields), chat_ids)
    return plan if is_active else plan_service.update_plan(plan, is_active=False)


def _plan_form(plan: Plan | None = None) -> PlanForm:
    """The plan form, its chat choices the tenant's connected channels and groups."""
    form = PlanForm(obj=plan)
    form.chats.choices = [(c.id, c.title) for c in channels.chats_of(tenant_or_404())]
    if plan is not None and not form.is_submitted():
        form.chats.data = [c.id for c in plan.chats]
    return form
