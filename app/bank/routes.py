"""The bank messages page: paste deposit SMS, see what they matched, approve a suggestion."""
import re

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.forms import EmptyForm
from app.bank import bp
from app.bank.forms import PasteForm
from app.models import BankMessage
from app.services import audit, receipt_announcements, receipts
from app.services.payments import bank_matching
from app.tenant_context import get_owned_or_404
from app.web import receipt_deciders, receipt_readers, save, submitted, tenant_or_404

SEPARATOR = re.compile(r"^\s*-{3,}\s*$", re.M)
MAX_MESSAGES = 100


@bp.route("/")
@receipt_readers
def index():
    return _page(PasteForm())


@bp.route("/paste", methods=["POST"])
@receipt_deciders
def paste():
    form = PasteForm()
    if not form.validate_on_submit():
        return _page(form), 400
    texts = [t.strip() for t in SEPARATOR.split(form.texts.data or "") if t.strip()][:MAX_MESSAGES]
    results = save(lambda: _ingest_all(form.sender.data, texts), form, "texts")
    if results is not None:
        approved = sum(r.message.status == "approved" and not r.duplicate for r in results)
        flash(_("%(count)s messages read, %(approved)s invoices approved.", count=len(results), approved=approved),
              "success")
        return redirect(url_for("bank.index"))
    return _page(form), 400


@bp.route("/<int:message_id>/approve", methods=["POST"])
@receipt_deciders
def approve(message_id: int):
    submitted(EmptyForm())
    tenant, owned = tenant_or_404(), get_owned_or_404(BankMessage, message_id)  # another tenant's: 404
    message = save(lambda: _approved(bank_matching.approve_suggestion(
        tenant, owned.id, receipts.Reviewer(account=current_user))))
    if message is not None:
        flash(_("Invoice %(code)s approved.", code=message.receipt.tracking_code), "success")
    return redirect(url_for("bank.index"))


def _ingest_all(sender: str, texts: list[str]) -> list:
    tenant, source = tenant_or_404(), audit.actor_of(current_user)
    results = [bank_matching.ingest(tenant, sender=sender, text=text, source=source) for text in texts]
    for result in results:
        if result.message.status == "approved" and not result.duplicate:
            receipt_announcements.announce_decision(result.message.receipt)  # queued; the outbox sends it after the commit
    return results


def _approved(message):
    receipt_announcements.announce_decision(message.receipt)
    return message


def _page(form: PasteForm):
    tenant = tenant_or_404()
    return render_template("bank/index.html", form=form, button_form=EmptyForm(),
                           waiting=bank_matching.queue(tenant), recent=bank_matching.recent(tenant))
