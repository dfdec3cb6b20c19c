"""Platform admin: tenants, a new tenant with its owner, wallet top-ups, wholesale prices."""
import uuid
from functools import wraps

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.auth.forms import EmptyForm
from app.extensions import db
from app.models import Tenant
from app.platform import bp
from app.platform.forms import TenantForm, TopupForm
from app.services import audit, backups, platform_admin, settings
from app.services import wallet as wallet_service
from app.services.settings_declared import Scope
from app.settings_forms import build_form, save_settings
from app.web import save


def platform_admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_platform_admin:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


@bp.route("/tenants")
@platform_admin_required
def tenants():
    return _page()


@bp.route("/tenants/new", methods=["POST"])
@platform_admin_required
def create_tenant():
    form = TenantForm()
    if form.validate_on_submit():
        tenant = save(lambda: platform_admin.create_tenant_with_owner(
            form.name.data, form.owner_email.data, form.owner_password.data, current_user), form, "owner_email")
        if tenant:
            flash(_("Tenant %(name)s created.", name=tenant.name), "success")
            return redirect(url_for("platform.tenants"))
    return _page(tenant_form=form), 400


@bp.route("/tenants/<int:tenant_id>/topup", methods=["POST"])
@platform_admin_required
def topup(tenant_id: int):
    tenant = db.session.get(Tenant, tenant_id) or abort(404)
    form = TopupForm()
    if form.validate_on_submit():
        key = f"wallet_topup:{_uuid(form.request_id.data)}"
        if save(lambda: wallet_service.topup_wallet(tenant, form.amount.data, key=key,
                                                     actor=audit.actor_of(current_user)), form, "amount"):
            flash(_("Wallet of %(name)s topped up.", name=tenant.name), "success")
            return redirect(url_for("platform.tenants"))
    return _page(topup_form=form, topup_tenant=tenant.id), 400


@bp.route("/prices", methods=["POST"])
@platform_admin_required
def prices():
    specs = settings.declared(Scope.PLATFORM)
    form = build_form(specs, None, formdata=request.form)
    if form.validate_on_submit() and save_settings(None, form, specs, current_user) is not None:
        flash(_("Platform settings saved."), "success")
        return redirect(url_for("platform.tenants"))
    return _page(price_form=form), 400


def _uuid(value: str) -> str:
    try:
        return uuid.UUID(value).hex
    except (TypeError, ValueError):
        abort(400)


def _page(tenant_form=None, topup_form=None, topup_tenant=None, price_form=None):
    return render_template(
        "platform/tenants.html", tenants=platform_admin.all_tenants(), tenant_form=tenant_form or TenantForm(),
        topup_form=topup_form, topup_tenant=topup_tenant, new_topup_form=TopupForm,
        price_form=price_form or build_form(settings.declared(Scope.PLATFORM), None), button_form=EmptyForm(),
        last_backup=backups.last_run(), last_good_backup=backups.last_success())
