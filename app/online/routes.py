"""The tenant's online payments page and its merchant id form."""
import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.models import OnlinePayment
from app.online import bp
from app.online.forms import MerchantForm
from app.services import audit
from app.services.payments import online
from app.web import owner_only, readers, save, tenant_or_404

ROWS = 100


@bp.route("/")
@readers
def index():
    return _page(MerchantForm())


@bp.route("/merchant", methods=["POST"])
@owner_only
def merchant():
    form = MerchantForm()
    if form.validate_on_submit():
        value = None if form.clear.data else form.merchant_id.data
        if form.clear.data or value:
            done = save(lambda: online.set_merchant_id(tenant_or_404(), value, actor=audit.actor_of(current_user))
                        or True, form, "merchant_id")
            if done:
                flash(_("Merchant id saved.") if value else _("Merchant id removed."), "success")
                return redirect(url_for("online.index"))
        else:
            form.merchant_id.errors = [_("Enter the merchant id, or tick Remove.")]
    return _page(form)


def _page(form: MerchantForm):
    tenant = tenant_or_404()
    payments = db.session.scalars(sa.select(OnlinePayment).where(OnlinePayment.tenant_id == tenant.id)
                                  .order_by(OnlinePayment.id.desc()).limit(ROWS))
    return render_template("online/index.html", form=form, payments=list(payments),
                           merchant_hint=online.merchant_hint(tenant))
