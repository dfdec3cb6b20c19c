"""Support tickets: opened by a member in the bot, answered by staff in the dashboard, the admin chat or the API.

    open ──staff answers──> answered ──member writes──> open
      └──────────┴──closed by staff, or N days after an answer with no reply──> closed ──member writes──> open

Every message of a member is copied to the bot's admin chats (outbox kind `ticket.admin_copy`, whose
delivery records the copy so that a reply to it answers the ticket); every staff answer goes to the
member through the ticket's bot (kind `ticket.to_member`).
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import Account, Bot, Member, Tenant, Ticket, TicketCopy, TicketMessage, TicketStatus
from app.models.types import utcnow
from app.services import audit, outbox, webhooks
from app.services.errors import DomainError, NotFound
from app.services.lookup import get_owned

ADMIN_COPY = "ticket.admin_copy"
TO_MEMBER = "ticket.to_member"
#: A member may open this many tickets an hour, and hold this many not closed.
OPENED_PER_HOUR = 3
OPEN_AT_ONCE = 5
TEXT_LIMIT = 3500
PAGE = 50


class TicketLimit(DomainError):
    code = "ticket_limit"


class TicketEmpty(DomainError):
    code = "ticket_empty"


def open_ticket(member: Member, bot: Bot, *, text: str | None = None, photo_file_id: str | None = None,
                photo_path: str | None = None, now: datetime | None = None) -> Ticket:
    """A new ticket with the member's first message, copied to the admin chats."""
    now = now or utcnow()
    _refuse_flood(member, now)
    text = _clean(text, photo_file_id or photo_path)
    ticket = Ticket(tenant_id=member.tenant_id, member_id=member.id, bot_id=bot.id, status=TicketStatus.OPEN.value,
                    subject=(text or "📷")[:120], waiting_since=now, created_at=now)
    db.session.add(ticket)
    db.session.flush()
    _add(ticket, "member", "bot", text, photo_file_id, photo_path, now=now)
    webhooks.emit(ticket.tenant_id, "ticket.created", {
        "ticket_id": ticket.id, "telegram_id": member.telegram_id, "bot_id": bot.id, "subject": ticket.subject})
    return ticket


def member_writes(ticket: Ticket, member: Member, *, text: str | None = None, photo_file_id: str | None = None,
                  photo_path: str | None = None, now: datetime | None = None) -> TicketMessage:
    """Another message of the member; a closed or answered ticket opens again."""
    if ticket.member_id != member.id:
        raise NotFound("No such ticket.")
    now = now or utcnow()
    text = _clean(text, photo_file_id or photo_path)
    ticket.status, ticket.closed_at = TicketStatus.OPEN.value, None
    ticket.waiting_since = ticket.waiting_since or now
    return _add(ticket, "member", "bot", text, photo_file_id, photo_path, now=now)


def answer(ticket: Ticket, text: str, *, via: str, account: Account | None = None, actor: str,
           now: datetime | None = None) -> TicketMessage:
    """A staff answer: the ticket becomes answered and the member gets it through the ticket's bot."""
    now = now or utcnow()
    text = _clean(text, None)
    ticket.status, ticket.waiting_since, ticket.answered_at, ticket.closed_at = (
        TicketStatus.ANSWERED.value, None, now, None)
    message = _add(ticket, "staff", via, text, None, None, now=now, account=account)
    audit.record(ticket.tenant_id, actor, "ticket.answer", f"ticket:{ticket.id}", via=via)
    return message


def close(ticket: Ticket, *, actor: str, now: datetime | None = None) -> Ticket:
    if ticket.status != TicketStatus.CLOSED.value:
        ticket.status, ticket.waiting_since, ticket.closed_at = TicketStatus.CLOSED.value, None, now or utcnow()
        audit.record(ticket.tenant_id, actor, "ticket.close", f"ticket:{ticket.id}")
    return ticket


def assign(ticket: Ticket, account: Account | None, *, actor: str) -> Ticket:
    ticket.assignee_id = account.id if account else None
    audit.record(ticket.tenant_id, actor, "ticket.assign", f"ticket:{ticket.id}",
                 assignee=account.email if account else None)
    return ticket


def close_quiet_tickets(tenant: Tenant, now: datetime, days: int) -> list[Ticket]:
    """Close answered tickets whose member has not replied for `days` days; the member is told."""
    due = db.session.scalars(sa.select(Ticket).where(
        Ticket.tenant_id == tenant.id, Ticket.status == TicketStatus.ANSWERED.value,
        Ticket.answered_at < now - timedelta(days=days)).order_by(Ticket.id).limit(1000).with_for_update()).all()
    for ticket in due:
        close(ticket, actor="system", now=now)
        _tell_member(ticket, None, "ticket.auto_closed", now)
    return due


def get(tenant: Tenant, ticket_id: int) -> Ticket:
    return get_owned(Ticket, tenant, ticket_id, "No such ticket.")


def of_member(member: Member, limit: int = 10) -> list[Ticket]:
    return list(db.session.scalars(sa.select(Ticket).where(
        Ticket.tenant_id == member.tenant_id, Ticket.member_id == member.id)
        .order_by(Ticket.id.desc()).limit(limit)))


def inbox(tenant: Tenant, *, status: str | None = TicketStatus.OPEN.value, bot_id: int | None = None,
          assignee_id: int | None = None, after: int | None = None, limit: int = PAGE) -> list[Ticket]:
    """Tickets of the tenant, newest id first within the filter; open ones longest-waiting first."""
    query = sa.select(Ticket).where(Ticket.tenant_id == tenant.id)
    if status:
        query = query.where(Ticket.status == status)
    if bot_id:
        query = query.where(Ticket.bot_id == bot_id)
    if assignee_id:
        query = query.where(Ticket.assignee_id == assignee_id)
    if after:
        query = query.where(Ticket.id < after)
    order = (Ticket.waiting_since.asc(), Ticket.id.desc()) if status == TicketStatus.OPEN.value else (Ticket.id.desc(),)
    return list(db.session.scalars(query.order_by(*order).limit(limit)))


def waiting_summary(tenant: Tenant) -> tuple[int, datetime | None]:
    """How many tickets wait for an answer, and since when the oldest waits (for the overview)."""
    count, oldest = db.session.execute(sa.select(sa.func.count(), sa.func.min(Ticket.waiting_since)).where(
        Ticket.tenant_id == tenant.id, Ticket.status == TicketStatus.OPEN.value)).one()
    return count, oldest


def by_admin_copy(bot: Bot, chat_id: int, message_id: int) -> Ticket | None:
    """The ticket whose admin-chat copy this is (a reply to it answers the ticket)."""
    return db.session.scalar(sa.select(Ticket).join(TicketCopy, TicketCopy.ticket_id == Ticket.id).where(
        TicketCopy.bot_id == bot.id, TicketCopy.chat_id == chat_id, TicketCopy.message_id == message_id))


def record_copy(message: TicketMessage, chat_id: int, telegram_message_id: int) -> None:
    ticket = message.ticket
    db.session.add(TicketCopy(tenant_id=ticket.tenant_id, ticket_id=ticket.id, bot_id=ticket.bot_id,
                              chat_id=chat_id, message_id=telegram_message_id))


def _add(ticket: Ticket, author: str, via: str, text, photo_file_id, photo_path, *, now,
         account: Account | None = None) -> TicketMessage:
    message = TicketMessage(tenant_id=ticket.tenant_id, ticket_id=ticket.id, author=author, via=via, text=text,
                            photo_file_id=photo_file_id, photo_path=photo_path, account_id=account.id if account else None,
                            created_at=now)
    db.session.add(message)
    db.session.flush()
    if author == "member":
        outbox.enqueue(ADMIN_COPY, {"message_id": message.id}, tenant_id=ticket.tenant_id,
                       key=f"ticket-message:{message.id}:admin-copy")
    else:
        _tell_member(ticket, message, "ticket.answered", now)
    return message


def _tell_member(ticket: Ticket, message: TicketMessage | None, text_key: str, now: datetime) -> None:
    key = f"ticket-message:{message.id}:member" if message else f"ticket:{ticket.id}:{text_key}:{now.isoformat()}"
    outbox.enqueue(TO_MEMBER, {"ticket_id": ticket.id, "message_id": message.id if message else None,
                               "text_key": text_key}, tenant_id=ticket.tenant_id, key=key)


def _refuse_flood(member: Member, now: datetime) -> None:
    recent, unclosed = db.session.execute(sa.select(
        sa.func.count().filter(Ticket.created_at >= now - timedelta(hours=1)),
        sa.func.count().filter(Ticket.status != TicketStatus.CLOSED.value),
    ).where(Ticket.tenant_id == member.tenant_id, Ticket.member_id == member.id)).one()
    if recent >= OPENED_PER_HOUR or unclosed >= OPEN_AT_ONCE:
        raise TicketLimit("You have opened too many tickets; please wait for an answer to the ones you have.")


def _clean(text: str | None, picture: str | None) -> str | None:
    text = (text or "").replace("\x00", "").strip()[:TEXT_LIMIT] or None
    if text is None and not picture:
        raise TicketEmpty("Write a message or send a photo.")
    return text
