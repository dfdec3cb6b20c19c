"""The audit log: who did what, filterable."""
from datetime import timedelta

from flask import render_template, request

from app.audit import bp
from app.audit.forms import AuditFilterForm
from app.extensions import db
from app.services.listings import AUDIT_PAGE_SIZE, audit_query
from app.services.overview import day_start_utc
from app.web import readers, tenant_or_404


@bp.route("/")
@readers
def index():
    tenant = tenant_or_404()
    form = AuditFilterForm(request.args)
    valid = form.validate()
    day_from, day_to = (form.day_from.data, form.day_to.data) if valid else (None, None)
    rows = list(db.session.scalars(audit_query(
        tenant.id, action=form.action.data or "", actor=form.actor.data or "",
        target=form.target.data or "", before_id=request.args.get("before", type=int),
        since=day_start_utc(tenant, day_from) if day_from else None,
        until=day_start_utc(tenant, day_to + timedelta(days=1)) if day_to else None)))
    older = rows[-1].id if len(rows) == AUDIT_PAGE_SIZE else None
    return render_template("audit/index.html", rows=rows, form=form, older=older)
