"""The support inbox: tickets by status, bot and assignee, unanswered first; answer, assign, close."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.auth.forms import EmptyForm
from app.models import Ticket, TicketStatus
from app.services import audit, tickets
from app.services.listings import bots_of_tenant
from app.services.tenancy import staff_of
from app.tenant_context import get_owned_or_404
from app.tickets import bp
from app.tickets.forms import AnswerForm, AssignForm
from app.web import save, stored_image, submitted, tenant_or_404, ticket_answerers, ticket_readers

STATUS_LABELS = {TicketStatus.OPEN.value: _l("Waiting for an answer"), TicketStatus.ANSWERED.value: _l("Answered"),
                 TicketStatus.CLOSED.value: _l("Closed")}


@bp.route("/")
@ticket_readers
def index():
    tenant = tenant_or_404()
    status = request.args.get("status", TicketStatus.OPEN.value)
    status = status if status in STATUS_LABELS else None
    rows = tickets.inbox(tenant, status=status, bot_id=request.args.get("bot", type=int),
                         assignee_id=request.args.get("assignee", type=int), after=request.args.get("after", type=int))
    return render_template("tickets/index.html", tickets=rows, status=status, status_labels=STATUS_LABELS,
                           bots=bots_of_tenant(tenant), staff=staff_of(tenant), page_size=tickets.PAGE)


@bp.route("/<int:ticket_id>")
@ticket_readers
def show(ticket_id: int):
    return _page(get_owned_or_404(Ticket, ticket_id))


@bp.route("/<int:ticket_id>/photos/<int:entry_id>")
@ticket_readers
def photo(ticket_id: int, entry_id: int):
    """A member's picture on the ticket: our re-encoded copy, served by its real type with nosniff."""
    ticket = get_owned_or_404(Ticket, ticket_id)
    entry = next((m for m in ticket.messages if m.id == entry_id), None)
    return stored_image(entry.photo_path if entry is not None else None)


@bp.route("/<int:ticket_id>/answer", methods=["POST"])
@ticket_answerers
def answer(ticket_id: int):
    ticket = get_owned_or_404(Ticket, ticket_id)
    form = AnswerForm()
    if form.validate_on_submit() and save(lambda: tickets.answer(
            ticket, form.text.data, via="dashboard", account=current_user, actor=audit.actor_of(current_user)),
            form, "text"):
        flash(_("Answer sent."), "success")
        return redirect(url_for("tickets.show", ticket_id=ticket.id))
    return _page(ticket, answer_form=form), 400


@bp.route("/<int:ticket_id>/assign", methods=["POST"])
@ticket_answerers
def assign(ticket_id: int):
    ticket = get_owned_or_404(Ticket, ticket_id)
    form = _assign_form(ticket)
    if form.validate_on_submit():
        account = next((a for a in staff_of(tenant_or_404()) if a.id == form.assignee_id.data), None)
        if save(lambda: tickets.assign(ticket, account, actor=audit.actor_of(current_user))):
            flash(_("Ticket assigned."), "success")
        return redirect(url_for("tickets.show", ticket_id=ticket.id))
    return _page(ticket, assign_form=form), 400


@bp.route("/<int:ticket_id>/close", methods=["POST"])
@ticket_answerers
def close(ticket_id: int):
    ticket = get_owned_or_404(Ticket, ticket_id)
    submitted(EmptyForm())
    if save(lambda: tickets.close(ticket, actor=audit.actor_of(current_user))):
        flash(_("Ticket closed."), "success")
    return redirect(url_for("tickets.show", ticket_id=ticket.id))


def _assign_form(ticket: Ticket) -> AssignForm:
    form = AssignForm(data={"assignee_id": ticket.assignee_id})
    form.assignee_id.choices = [("", "—")] + [(a.id, a.email) for a in staff_of(tenant_or_404())]
    return form


def _page(ticket: Ticket, answer_form=None, assign_form=None):
    return render_template("tickets/show.html", ticket=ticket, status_labels=STATUS_LABELS,
                           answer_form=answer_form or AnswerForm(), assign_form=assign_form or _assign_form(ticket),
                           button_form=EmptyForm())
