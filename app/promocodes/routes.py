"""Promo codes: create, list with usage, disable."""
from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.forms import EmptyForm
from app.models import Plan, Promocode
from app.promocodes import bp
from app.promocodes.forms import KIND_LABELS, PromocodeForm
from app.services import promocodes
from app.services.listings import plans_of_tenant
from app.tenant_context import get_owned_or_404
from app.web import owner_only, readers, save, submitted, tenant_or_404


@bp.route("/")
@readers
def index():
    return render_template("promocodes/index.html", codes=promocodes.list_promocodes(tenant_or_404()),
                           kind_labels=KIND_LABELS, button_form=EmptyForm())


@bp.route("/new", methods=["GET", "POST"])
@owner_only
def create():
    tenant = tenant_or_404()
    form = PromocodeForm()
    form.plan_id.choices = [("", "—")] + [(p.id, p.name) for p in plans_of_tenant(tenant) if not p.is_archived]
    if form.validate_on_submit():
        plan = get_owned_or_404(Plan, form.plan_id.data) if form.plan_id.data else None
        expires = (datetime.combine(form.expires_on.data, time.max, ZoneInfo(tenant.timezone))
                   if form.expires_on.data else None)
        promo = save(lambda: promocodes.create_promocode(
            tenant, code=form.code.data, kind=form.kind.data, value=form.value.data, plan=plan,
            max_uses=form.max_uses.data, expires_at=expires, by=current_user), form, "code")
        if promo:
            flash(_("Code %(code)s created.", code=promo.code), "success")
            return redirect(url_for("promocodes.index"))
    return render_template("promocodes/new.html", form=form)


@bp.route("/<int:promocode_id>")
@readers
def show(promocode_id: int):
    promo = get_owned_or_404(Promocode, promocode_id)
    return render_template("promocodes/show.html", promo=promo, redemptions=promocodes.redemptions_of(promo),
                           kind_labels=KIND_LABELS)


@bp.route("/<int:promocode_id>/disable", methods=["POST"])
@owner_only
def disable(promocode_id: int):
    promo = get_owned_or_404(Promocode, promocode_id)
    submitted(EmptyForm())
    if save(lambda: promocodes.disable(promo, by=current_user)):
        flash(_("Code %(code)s disabled.", code=promo.code), "success")
    return redirect(url_for("promocodes.index"))
