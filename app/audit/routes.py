"""The audit log: who did what, filterable."""
from flask import render_template, request

from app.audit import bp
from app.audit.forms import AuditFilterForm
from app.extensions import db
from app.services.listings import AUDIT_PAGE_SIZE, audit_query
from app.web import readers, tenant_or_404


@bp.route("/")
@readers
def index():
    form = AuditFilterForm(request.args)
    form.validate()
    rows = list(db.session.scalars(audit_query(
        tenant_or_404().id, action=form.action.data or "", actor=form.actor.data or "",
        target=form.target.data or "", before_id=request.args.get("before", type=int))))
    older = rows[-1].id if len(rows) == AUDIT_PAGE_SIZE else None
    return render_template("audit/index.html", rows=rows, form=form, older=older)
