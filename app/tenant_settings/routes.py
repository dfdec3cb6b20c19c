"""The tenant settings page, generated from the declared tenant settings (grouped sales/growth/bots/locale)."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.services import settings
from app.services.settings_declared import TENANT_GROUPS, Scope
from app.settings_forms import build_form, field_names, save_settings
from app.tenant_settings import bp
from app.web import owner_only, readers, tenant_or_404


@bp.route("/")
@readers
def index():
    tenant = tenant_or_404()
    return _page(build_form(settings.declared(Scope.TENANT), tenant))


@bp.route("/", methods=["POST"])
@owner_only
def update():
    tenant = tenant_or_404()
    specs = settings.declared(Scope.TENANT)
    form = build_form(specs, tenant, formdata=request.form)
    if form.validate_on_submit():
        changed = save_settings(tenant, form, specs, current_user)
        if changed is not None:
            flash(_("Settings saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("tenant_settings.index"))
    return _page(form), 400


def _page(form):
    groups = [(label, [(spec, [form[name] for name in field_names(spec)]) for spec in settings.declared(Scope.TENANT, key)])
              for key, label in TENANT_GROUPS]
    return render_template("tenant_settings/index.html", form=form, groups=groups)
