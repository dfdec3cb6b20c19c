"""Platform admin: the receipts tenants send to top up their wallet, and the platform's cards they pay to."""
from functools import partial

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.forms import EmptyForm
from app.database import retrying
from app.platform import bp
from app.platform.forms import PlatformCardForm, PlatformRejectForm
from app.platform.routes import platform_admin_required
from app.receipts.forms import STATUS_LABELS, ApproveForm
from app.services import audit, platform_cards, platform_receipts
from app.services.errors import NotFound
from app.web import save, stored_image, submitted


@bp.route("/receipts")
@platform_admin_required
def receipts():
    return render_template("platform/receipts.html", pending=platform_receipts.queue(),
                           decided=platform_receipts.decided(), status_labels=STATUS_LABELS)


@bp.route("/receipts/<int:platform_receipt_id>")
@platform_admin_required
def receipt(platform_receipt_id: int):
    return _show(_receipt(platform_receipt_id), ApproveForm(), PlatformRejectForm())


@bp.route("/receipts/<int:platform_receipt_id>/photo")
@platform_admin_required
def receipt_photo(platform_receipt_id: int):
    return stored_image(_receipt(platform_receipt_id).photo_path)


@bp.route("/receipts/<int:platform_receipt_id>/approve", methods=["POST"])
@platform_admin_required
def approve_receipt(platform_receipt_id: int):
    receipt, form = _receipt(platform_receipt_id), ApproveForm()
    decide = partial(platform_receipts.approve, receipt, current_user, amount=form.amount.data)
    if form.validate_on_submit() and save(lambda: retrying(decide), form, "amount"):
        flash(_("Receipt %(code)s approved; the wallet of %(name)s was credited.", code=receipt.tracking_code,
                name=receipt.tenant.name), "success")
        return redirect(url_for("platform.receipts"))
    return _show(receipt, form, PlatformRejectForm(formdata=None)), 400


@bp.route("/receipts/<int:platform_receipt_id>/reject", methods=["POST"])
@platform_admin_required
def reject_receipt(platform_receipt_id: int):
    receipt, form = _receipt(platform_receipt_id), PlatformRejectForm()
    decide = partial(platform_receipts.reject, receipt, current_user, form.reason.data)
    if form.validate_on_submit() and save(lambda: retrying(decide), form, "reason"):
        flash(_("Receipt %(code)s rejected.", code=receipt.tracking_code), "success")
        return redirect(url_for("platform.receipts"))
    return _show(receipt, ApproveForm(formdata=None), form), 400


@bp.route("/cards")
@platform_admin_required
def cards():
    return _cards_page(PlatformCardForm())


@bp.route("/cards/new", methods=["POST"])
@platform_admin_required
def create_card():
    form = PlatformCardForm()
    if form.validate_on_submit():
        card = save(lambda: platform_cards.create_card(
            card_number=form.card_number.data, holder_name=form.holder_name.data, bank_name=form.bank_name.data,
            account_number=form.account_number.data, actor=audit.actor_of(current_user)), form, "card_number")
        if card is not None:
            flash(_("Card %(number)s added.", number=card.masked_number), "success")
            return redirect(url_for("platform.cards"))
    return _cards_page(form), 400


@bp.route("/cards/<int:platform_card_id>/toggle", methods=["POST"])
@platform_admin_required
def toggle_card(platform_card_id: int):
    try:
        card = platform_cards.get_card(platform_card_id)
    except NotFound:
        abort(404)
    if submitted(EmptyForm()):
        save(lambda: platform_cards.set_active(card, not card.is_active, actor=audit.actor_of(current_user)))
    return redirect(url_for("platform.cards"))


def _receipt(receipt_id: int):
    try:
        return platform_receipts.get(receipt_id)
    except NotFound:
        abort(404)


def _show(receipt, approve_form, reject_form):
    return render_template("platform/receipt.html", receipt=receipt, approve_form=approve_form,
                           reject_form=reject_form, status_labels=STATUS_LABELS,
                           has_photo=platform_receipts.photo_file(receipt, current_app.instance_path) is not None,
                           decidable=receipt.status == "pending_review")


def _cards_page(form):
    return render_template("platform/cards.html", cards=platform_cards.all_cards(), form=form,
                           button_form=EmptyForm())
