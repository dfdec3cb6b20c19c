"""The tenant's wallet with the platform: balance, its ledger, traffic sold vs consumed, the wholesale price."""
import sqlalchemy as sa
from flask import redirect, render_template
from flask_babel import gettext as _
from flask_login import current_user

from app import charts
from app.extensions import db
from app.i18n import format_date, local_digits
from app.models import LedgerAccount, LedgerEntry
from app.services import wallet as wallet_service
from app.services.payments import online, zarinpal
from app.wallet import bp
from app.wallet.forms import ZarinpalTopupForm
from app.web import owner_only, readers, save, tenant_or_404

GB = 1024 ** 3
LEDGER_ROWS = 100


@bp.route("/")
@readers
def index():
    return _page(ZarinpalTopupForm())


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
    return _page(form), 400


def _page(form: ZarinpalTopupForm):
    tenant = tenant_or_404()
    stats = wallet_service.wallet_stats(tenant)
    entries = db.session.scalars(sa.select(LedgerEntry).where(
        LedgerEntry.tenant_id == tenant.id, LedgerEntry.account == LedgerAccount.TENANT_WALLET.value)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc()).limit(LEDGER_ROWS))
    chart = charts.line_chart(_("Traffic per day (GB)"), [format_date(d["day"]) for d in stats["days"]], {
        _("Sold"): [round(d["sold_bytes"] / GB, 2) for d in stats["days"]],
        _("Consumed"): [round(d["consumed_bytes"] / GB, 2) for d in stats["days"]]}, local_digits)
    return render_template("wallet/index.html", stats=stats, entries=list(entries), chart=chart, topup_form=form,
                           online_topup=online.platform_merchant_id() is not None)
