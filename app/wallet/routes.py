"""The tenant's wallet with the platform: balance, its ledger, traffic sold vs consumed, the wholesale price.

The owner tops it up by Zarinpal (the platform's merchant) or by card-to-card to a platform card with the
receipt image, which a platform admin reviews (app/platform/receipts.py).
"""
import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import charts
from app.auth.forms import EmptyForm
from app.extensions import db
from app.i18n import format_date, local_digits
from app.models import LedgerAccount, LedgerEntry
from app.services import platform_cards, platform_receipts, stars, uploads
from app.services import wallet as wallet_service
from app.services.errors import NotFound
from app.services.payments import online, zarinpal
from app.wallet import bp
from app.wallet.forms import CardTopupForm, ZarinpalTopupForm
from app.web import owner_only, readers, save, stored_image, submitted, tenant_or_404

GB = 1024 ** 3
LEDGER_ROWS = 100


@bp.route("/")
@readers
def index():
    return _page()


@bp.route("/topup/zarinpal", methods=["POST"])
@owner_only
def topup_zarinpal():
    """The owner pays the platform's Zarinpal merchant; the callback credits the wallet."""
    form = ZarinpalTopupForm()
    if form.validate_on_submit():
        payment = save(lambda: online.start_wallet_payment(tenant_or_404(), current_user, form.amount.data),
                       form, "amount")
        if payment is not None:
            return redirect(zarinpal.start_pay_url(payment.authority))
    return _page(topup_form=form), 400


@bp.route("/topup/card", methods=["POST"])
@owner_only
def topup_card():
    """The owner sends the receipt of a transfer to a platform card; a platform admin reviews it."""
    form = _card_form()
    if form.validate_on_submit():
        data = form.photo.data.read(uploads.MAX_IMAGE_BYTES + 1)
        receipt = save(lambda: platform_receipts.submit(
            tenant_or_404(), current_user, amount=form.amount.data, card_id=form.card_id.data, image=data,
            text=form.text.data, instance_path=current_app.instance_path), form, "photo")
        if receipt is not None:
            flash(_("Receipt %(code)s sent; the platform will review it.", code=receipt.tracking_code), "success")
            return redirect(url_for("wallet.index") + "#platform-receipts")
    return _page(card_form=form), 400


@bp.route("/topups/<int:topup_id>/photo")
@readers
def topup_photo(topup_id: int):
    return stored_image(_own(topup_id).photo_path)


@bp.route("/topups/<int:topup_id>/cancel", methods=["POST"])
@owner_only
def topup_cancel(topup_id: int):
    receipt = _own(topup_id)
    if submitted(EmptyForm()) and save(lambda: platform_receipts.cancel(receipt, tenant_or_404(), current_user)):
        flash(_("Receipt %(code)s withdrawn.", code=receipt.tracking_code), "success")
    return redirect(url_for("wallet.index") + "#platform-receipts")


def _own(topup_id: int):
    try:
        return platform_receipts.get_for_tenant(tenant_or_404(), topup_id)
    except NotFound:
        abort(404)


def _card_form(**kwargs) -> CardTopupForm:
    form = CardTopupForm(**kwargs)
    form.card_id.choices = [(c.id, f"{c.grouped_number} · {c.bank_name} · {c.holder_name}")
                            for c in platform_cards.active_cards()]
    return form


def _page(topup_form=None, card_form=None):
    tenant = tenant_or_404()
    stats = wallet_service.wallet_stats(tenant)
    entries = db.session.scalars(sa.select(LedgerEntry).where(
        LedgerEntry.tenant_id == tenant.id, LedgerEntry.account == LedgerAccount.TENANT_WALLET.value)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc()).limit(LEDGER_ROWS))
    chart = charts.line_chart(_("Traffic per day (GB)"), [format_date(d["day"]) for d in stats["days"]], {
        _("Sold"): [round(d["sold_bytes"] / GB, 2) for d in stats["days"]],
        _("Consumed"): [round(d["consumed_bytes"] / GB, 2) for d in stats["days"]]}, local_digits)
    card_form = card_form or _card_form(formdata=None)
    return render_template("wallet/index.html", stats=stats, stars_earned=stars.stars_earned(tenant),
                           entries=list(entries), chart=chart,
                           topup_form=topup_form or ZarinpalTopupForm(), card_form=card_form,
                           platform_cards=platform_cards.active_cards(), button_form=EmptyForm(),
                           platform_receipts=platform_receipts.of_tenant(tenant),
                           pending=platform_receipts.pending_of(tenant),
                           online_topup=online.platform_merchant_id() is not None)
