"""The tenant's wallet with the platform: balance, its ledger, traffic sold vs consumed, the wholesale price."""
import sqlalchemy as sa
from flask import render_template
from flask_babel import gettext as _

from app import charts
from app.extensions import db
from app.i18n import format_date
from app.models import LedgerAccount, LedgerEntry
from app.services import wallet as wallet_service
from app.wallet import bp
from app.web import readers, tenant_or_404

GB = 1024 ** 3
LEDGER_ROWS = 100


@bp.route("/")
@readers
def index():
    tenant = tenant_or_404()
    stats = wallet_service.wallet_stats(tenant)
    entries = db.session.scalars(sa.select(LedgerEntry).where(
        LedgerEntry.tenant_id == tenant.id, LedgerEntry.account == LedgerAccount.TENANT_WALLET.value)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc()).limit(LEDGER_ROWS))
    chart = charts.line_chart(_("Traffic per day (GB)"), [format_date(d["day"]) for d in stats["days"]], {
        _("Sold"): [round(d["sold_bytes"] / GB, 2) for d in stats["days"]],
        _("Consumed"): [round(d["consumed_bytes"] / GB, 2) for d in stats["days"]]})
    return render_template("wallet/index.html", stats=stats, entries=list(entries), chart=chart)
