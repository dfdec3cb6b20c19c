"""Support tickets: the inbox and staff answers (the member gets the answer through the ticket's bot)."""
from __future__ import annotations

import sqlalchemy as sa
from apiflask.fields import DateTime, Integer, String
from apiflask.validators import Length, OneOf
from marshmallow import Schema

from app.api import bp
from app.api.auth import requires, tenant, token
from app.api.pagination import page
from app.api.schemas import PageQuery, Strict, page_of
from app.models import Member, Ticket, TicketStatus
from app.services import audit, tickets

TAG = "Support"


class TicketQuery(PageQuery):
    status = String(validate=OneOf([s.value for s in TicketStatus]))


class TicketOut(Schema):
    id = Integer(required=True)
    telegram_id = Integer(required=True)
    bot_id = Integer(required=True)
    status = String(required=True)
    subject = String(required=True)
    waiting_since = DateTime(allow_none=True)
    created_at = DateTime(required=True)


class ReplyIn(Strict):
    text = String(required=True, validate=Length(1, tickets.TEXT_LIMIT))


class ReplyOut(Schema):
    ticket_id = Integer(required=True)
    message_id = Integer(required=True)
    status = String(required=True)


def ticket_out(ticket: Ticket) -> dict:
    return {"id": ticket.id, "telegram_id": ticket.member.telegram_id, "bot_id": ticket.bot_id,
            "status": ticket.status, "subject": ticket.subject, "waiting_since": ticket.waiting_since,
            "created_at": ticket.created_at}


@bp.get("/tickets")
@requires("read")
@bp.input(TicketQuery, location="query")
@bp.output(page_of(TicketOut, "TicketPage"))
@bp.doc(tags=[TAG], summary="Support tickets, newest first; filter by status (open = waiting for staff)")
def list_tickets(query_data):
    query = sa.select(Ticket).join(Member, Member.id == Ticket.member_id).where(Ticket.tenant_id == tenant().id)
    if query_data.get("status"):
        query = query.where(Ticket.status == query_data["status"])
    items, after = page(query, Ticket.id, limit=query_data["limit"], after=query_data.get("after"))
    return {"items": [ticket_out(t) for t in items], "next": after}


@bp.post("/tickets/<int:ticket_id>/reply")
@requires("members:write")
@bp.input(ReplyIn)
@bp.output(ReplyOut, status_code=201)
@bp.doc(tags=[TAG], summary="Answer a ticket as staff; the member gets it in the bot")
def reply_ticket(ticket_id: int, json_data):
    ticket = tickets.get(tenant(), ticket_id)
    message = tickets.answer(ticket, json_data["text"], via="api", actor=audit.actor_of(token()))
    return {"ticket_id": ticket.id, "message_id": message.id, "status": ticket.status}
