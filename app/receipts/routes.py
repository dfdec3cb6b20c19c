"""Receipts: the pending queue, filters and search, one receipt with its photo, approve and reject."""
from functools import partial
from pathlib import Path

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.database import retrying
from app.extensions import db
from app.models import Receipt, ReceiptStatus
from app.receipts import bp
from app.receipts.forms import STATUS_LABELS, ApproveForm, FilterForm, RejectForm
from app.services import cards as card_service
from app.services import images, receipt_announcements
from app.services import receipt_queries as queries
from app.services import receipts as receipt_service
from app.services.listings import bots_of_tenant
from app.services.payments import fingerprints
from app.tenant_context import get_owned_or_404
from app.web import receipt_deciders, receipt_readers, save, stored_image, tenant_or_404


@bp.route("/")
@receipt_readers
def index():
    return _list("receipts/index.html", queries.queue_query, history=False)


@bp.route("/history")
@receipt_readers
def history():
    return _list("receipts/index.html", queries.history_query, history=True)


@bp.route("/<int:receipt_id>")
@receipt_readers
def show(receipt_id: int):
    return _show(get_owned_or_404(Receipt, receipt_id), ApproveForm(), RejectForm())


@bp.route("/<int:receipt_id>/photo")
@receipt_readers
def photo(receipt_id: int):
    """The stored receipt photo, only for this tenant's staff."""
    return stored_image(get_owned_or_404(Receipt, receipt_id).photo_path)


@bp.route("/<int:receipt_id>/approve", methods=["POST"])
@receipt_deciders
def approve(receipt_id: int):
    receipt = get_owned_or_404(Receipt, receipt_id)
    form = ApproveForm()
    decide = partial(receipt_service.approve, receipt, amount=form.amount.data)
    if form.validate_on_submit() and _decided(receipt, decide, form, "amount"):
        flash(_("Receipt %(code)s approved.", code=receipt.tracking_code), "success")
        return redirect(url_for("receipts.index"))
    return _show(receipt, form, RejectForm(formdata=None)), 400


@bp.route("/<int:receipt_id>/reject", methods=["POST"])
@receipt_deciders
def reject(receipt_id: int):
    receipt = get_owned_or_404(Receipt, receipt_id)
    form = RejectForm()
    decide = partial(receipt_service.reject, receipt, reason=form.reason.data)
    if form.validate_on_submit() and _decided(receipt, decide, form, "reason"):
        flash(_("Receipt %(code)s rejected.", code=receipt.tracking_code), "success")
        return redirect(url_for("receipts.index"))
    return _show(receipt, ApproveForm(formdata=None), form), 400


def _decided(receipt: Receipt, decide, form, field: str) -> bool:
    """Apply `decide(reviewer)` as the signed-in account, queue the member's and admin chats' messages, commit."""
    reviewer = receipt_service.Reviewer(account=current_user)

    def decide_and_announce():
        decide(reviewer)
        receipt_announcements.announce_decision(receipt)
        return True
    return save(lambda: retrying(decide_and_announce), form, field) is not None


def _list(template: str, query_of, history: bool):
    tenant = tenant_or_404()
    form = FilterForm(request.args)
    form.bot_id.choices = [("", _("All bots"))] + [(b.id, "@" + b.username) for b in bots_of_tenant(tenant)]
    form.card_id.choices = [("", _("All cards"))] + [(c.id, c.masked_number) for c in card_service.tenant_cards(tenant)]
    if history:
        form.status.choices = [("", _("Approved and rejected"))] + [
            (s, STATUS_LABELS[s]) for s in queries.DECIDED]
    form.validate()
    # A filter that failed validation (an unknown bot id, a date out of range) is left out, not trusted.
    filters = queries.ReceiptFilter(**{k: v for k, v in form.data.items() if v not in (None, "") and not form[k].errors})
    next_after = None
    if filters.tracking_code:
        receipts = list(db.session.scalars(queries.tracking_code_query(tenant, filters.tracking_code)))
    else:
        receipts, next_after = queries.page(tenant, filters, query_of, request.args.get("after", type=int))
    return render_template(template, receipts=receipts, form=form, history=history, status_labels=STATUS_LABELS,
                           next_after=next_after, reuse_flags=fingerprints.flags_for(tenant.id, [r.id for r in receipts]))


def _show(receipt: Receipt, approve_form, reject_form):
    fingerprint = fingerprints.fingerprint_of(receipt)
    earlier = fingerprint.duplicate_of if fingerprint is not None and fingerprint.flagged else None
    return render_template("receipts/show.html", receipt=receipt, approve_form=approve_form,
                           reject_form=reject_form, status_labels=STATUS_LABELS,
                           has_photo=_photo_file(receipt) is not None,
                           reuse=fingerprint if earlier is not None else None, earlier=earlier,
                           earlier_has_photo=earlier is not None and _photo_file(earlier) is not None,
                           decidable=receipt.status == ReceiptStatus.PENDING_REVIEW.value)


def _photo_file(receipt: Receipt) -> Path | None:
    return images.stored_path(receipt.photo_path)
