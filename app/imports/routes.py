"""Importing an older bot's users_data.json from the dashboard (owners; up to MAX_UPLOAD_BYTES)."""
from flask import flash, render_template
from flask_babel import gettext as _

from app import unit_of_work
from app.imports import bp
from app.imports.forms import MAX_UPLOAD_BYTES, UsersJsonForm
from app.models import Bot
from app.services import imports
from app.services.listings import bots_of_tenant
from app.tenant_context import get_owned_or_404
from app.web import owner_only, tenant_or_404


@bp.route("/", methods=["GET", "POST"])
@owner_only
def users_json():
    tenant = tenant_or_404()
    form = UsersJsonForm()
    form.bot_id.choices = [("", "—")] + [(b.id, f"@{b.username}") for b in bots_of_tenant(tenant)]
    report = None
    if form.validate_on_submit():
        report = _run(tenant, form)
        if report is None:
            return render_template("imports/index.html", form=form, report=None,
                                   max_mb=MAX_UPLOAD_BYTES // 2**20), 400
    return render_template("imports/index.html", form=form, report=report, max_mb=MAX_UPLOAD_BYTES // 2**20)


def _run(tenant, form):
    raw = form.document.data.read(MAX_UPLOAD_BYTES + 1)
    if len(raw) > MAX_UPLOAD_BYTES:
        form.document.errors.append(_("The file is larger than %(mb)s MB; use flask import members.",
                                      mb=MAX_UPLOAD_BYTES // 2**20))
        return None
    try:
        document = imports.sources.load_json(raw)
        bot = get_owned_or_404(Bot, form.bot_id.data) if form.bot_id.data else None
        run = lambda: imports.import_users_json(tenant, document, bot=bot, dry_run=form.dry_run.data)  # noqa: E731
        report = unit_of_work.run(run) if not form.dry_run.data else _dry(run)
    except ValueError as err:
        form.document.errors.append(_("This is not a users_data.json file: %(error)s", error=str(err)[:200]))
        return None
    flash(_("Dry run: nothing was written.") if report.dry_run else _("Members imported."), "success")
    return report.as_dict()


def _dry(run):
    try:
        return run()
    finally:
        unit_of_work.rollback()
