"""Members: search, one member's page, balance adjustments, ban, grants, cancelling or changing a plan, CSV export."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.forms import EmptyForm
from app.exports.routes import csv_response
from app.members import bp
from app.members.forms import AdjustBalanceForm, CancelSubscriptionForm, ChangePlanForm, GrantForm
from app.models import Member, Plan, Subscription
from app.services import exports, member_admin, referrals
from app.services import member_queries as queries
from app.services.plans import active_plans
from app.services.subscriptions import LIVE_STATUSES, active_subscription
from app.tenant_context import get_owned_or_404
from app.web import member_readers, owner_only, readers, save, submitted, tenant_or_404


@bp.route("/")
@member_readers
def index():
    text = request.args.get("q", "").strip()
    members, next_before = queries.search(tenant_or_404(), text, request.args.get("before", type=int))
    return render_template("members/index.html", members=members, q=text, next_before=next_before)


@bp.route("/export.csv")
@readers
def export():
    """Every member as CSV (the same streamed, formula-safe export as /exports/members.csv)."""
    tenant = tenant_or_404()
    return csv_response(f"members-{tenant.slug}.csv", exports.members(tenant))


@bp.route("/<int:member_id>")
@member_readers
def show(member_id: int):
    return _page(get_owned_or_404(Member, member_id), AdjustBalanceForm(), _grant_form())


@bp.route("/<int:member_id>/adjust", methods=["POST"])
@owner_only
def adjust(member_id: int):
    member = get_owned_or_404(Member, member_id)
    form = AdjustBalanceForm()
    if form.validate_on_submit():
        done = save(lambda: member_admin.adjust_balance(member, form.amount.data, form.reason.data, current_user,
                                                        request_id=form.request_id.data), form, "amount")
        if done:
            flash(_("Balance adjusted."), "success")
            return redirect(url_for("members.show", member_id=member.id))
    return _page(member, form, _grant_form(formdata=None)), 400


@bp.route("/<int:member_id>/ban", methods=["POST"])
@owner_only
def ban(member_id: int):
    member = get_owned_or_404(Member, member_id)
    submitted(EmptyForm())
    banned = request.form.get("banned") == "1"
    if save(lambda: member_admin.set_banned(member, banned, current_user)):
        flash(_("Member banned.") if banned else _("Member unbanned."), "success")
    return redirect(url_for("members.show", member_id=member.id))


@bp.route("/<int:member_id>/grant", methods=["POST"])
@owner_only
def grant(member_id: int):
    member = get_owned_or_404(Member, member_id)
    form = _grant_form()
    if form.validate_on_submit():
        plan = get_owned_or_404(Plan, form.plan_id.data)
        if save(lambda: member_admin.grant_plan(member, plan, form.days.data, current_user), form, "days"):
            flash(_("Subscription granted."), "success")
            return redirect(url_for("members.show", member_id=member.id))
    return _page(member, AdjustBalanceForm(formdata=None), form), 400


@bp.route("/<int:member_id>/subscriptions/<int:subscription_id>")
@owner_only
def subscription(member_id: int, subscription_id: int):
    member, held = _subscription_of(member_id, subscription_id)
    return _subscription_page(member, held, CancelSubscriptionForm(), _change_plan_form(held))


@bp.route("/<int:member_id>/subscriptions/<int:subscription_id>/cancel", methods=["POST"])
@owner_only
def cancel_subscription(member_id: int, subscription_id: int):
    member, held = _subscription_of(member_id, subscription_id)
    form = CancelSubscriptionForm()
    if form.validate_on_submit() and save(
            lambda: member_admin.cancel_subscription(member, held, current_user, refund=form.refund.data,
                                                     reason=form.reason.data, request_id=form.request_id.data),
            form, "refund"):
        flash(_("Subscription cancelled."), "success")
        return redirect(url_for("members.show", member_id=member.id))
    return _subscription_page(member, held, form, _change_plan_form(held, formdata=None)), 400


@bp.route("/<int:member_id>/subscriptions/<int:subscription_id>/change-plan", methods=["POST"])
@owner_only
def change_plan(member_id: int, subscription_id: int):
    member, held = _subscription_of(member_id, subscription_id)
    form = _change_plan_form(held)
    if form.validate_on_submit():
        plan = get_owned_or_404(Plan, form.plan_id.data)
        if save(lambda: member_admin.change_plan(member, held, plan, current_user), form, "plan_id"):
            flash(_("Plan changed."), "success")
            return redirect(url_for("members.show", member_id=member.id))
    return _subscription_page(member, held, CancelSubscriptionForm(formdata=None), form), 400


def _subscription_of(member_id: int, subscription_id: int) -> tuple[Member, Subscription]:
    member = get_owned_or_404(Member, member_id)
    held = get_owned_or_404(Subscription, subscription_id)
    if held.member_id != member.id:
        abort(404)
    return member, held


def _change_plan_form(held: Subscription, **kwargs) -> ChangePlanForm:
    form = ChangePlanForm(**kwargs)
    form.plan_id.choices = [(p.id, p.name) for p in active_plans(tenant_or_404()) if p.id != held.plan_id]
    return form


def _subscription_page(member: Member, held: Subscription, cancel_form, change_form):
    return render_template("members/subscription.html", member=member, subscription=held,
                           live=held.status in LIVE_STATUSES, cancel_form=cancel_form, change_form=change_form)


def _grant_form(**kwargs) -> GrantForm:
    form = GrantForm(**kwargs)
    form.plan_id.choices = [(p.id, p.name) for p in active_plans(tenant_or_404())]
    return form


def _page(member: Member, adjust_form, grant_form):
    return render_template("members/show.html", member=member, adjust_form=adjust_form, grant_form=grant_form,
                           button_form=EmptyForm(), active=active_subscription(member), referral=referrals.stats(member),
                           **queries.member_page(member))
