"""Outbox handlers of support tickets: copies to the admin chats, staff answers to the member.

Each send records Telegram's message_id on the outbox row first (app.worker.delivery.remember), so a
re-run after a crash does not send again; an admin copy is also recorded as a TicketCopy, which is how
a reply in the admin chat finds its ticket.
"""
from __future__ import annotations

import requests
from telebot.apihelper import ApiTelegramException

from app.extensions import db
from app.models import OutboxMessage, Ticket, TicketMessage
from app.services import images, outbox, tickets
from app.worker.delivery import remember
from bots import formatting as fmt
from bots.context import clip, language_of
from bots.handlers.admin import admin_chat_ids
from bots.i18n import t
from bots.keyboards import button, keyboard
from bots.notify import telebot_for
from bots.outbound import configure, note_blocked, pace, telegram_failure
from bots.receipt_views import admin_language


@outbox.handler(tickets.ADMIN_COPY)
def copy_to_admins(message: OutboxMessage) -> None:
    """One copy per admin chat of the ticket's bot; chats already done (recorded on the row) are skipped."""
    entry = db.session.get(TicketMessage, message.payload["message_id"])
    if entry is None:
        raise outbox.Permanent("ticket message deleted")
    ticket = entry.ticket
    done = set((message.result or {}).get("chats", []))
    lang = admin_language(ticket.member.tenant)
    photo = _photo(entry)
    text = clip(admin_text(ticket, entry, lang), 1024 if photo else 4096)
    tb = _telebot(ticket)
    for chat_id in sorted(admin_chat_ids(ticket.bot) - done):
        sent = _send(tb, chat_id, text, photo)
        tickets.record_copy(entry, chat_id, sent.message_id)
        remember(message, chats=sorted(done | {chat_id}))
        done.add(chat_id)


@outbox.handler(tickets.TO_MEMBER)
def tell_member(message: OutboxMessage) -> None:
    if (message.result or {}).get("message_id"):
        return
    ticket = db.session.get(Ticket, message.payload["ticket_id"])
    if ticket is None:
        raise outbox.Permanent("ticket deleted")
    entry = db.session.get(TicketMessage, message.payload["message_id"]) if message.payload["message_id"] else None
    lang = language_of(ticket.member, ticket.member.tenant)
    text = t(lang, message.payload["text_key"], number=fmt.digits(lang, ticket.id), text=entry.text if entry else "")
    markup = keyboard([button(t(lang, "ticket.reply_button"), f"tk:open:{ticket.id}")])
    sent = _send(_telebot(ticket), ticket.member.telegram_id, clip(text), None, markup)
    remember(message, message_id=sent.message_id)


def _photo(entry: TicketMessage) -> str | bytes | None:
    """The member's Telegram photo, else an upload of our re-encoded copy (an image sent as a file)."""
    if entry.photo_file_id:
        return entry.photo_file_id
    stored = images.stored_path(entry.photo_path)
    return stored.read_bytes() if stored is not None else None


def admin_text(ticket: Ticket, entry: TicketMessage, lang: str) -> str:
    member = ticket.member
    head = t(lang, "ticket.admin_head", number=fmt.digits(lang, ticket.id), name=member.display_name[:60],
             telegram_id=member.telegram_id)
    return f"{head}\n\n{entry.text or ''}\n\n{t(lang, 'ticket.admin_hint')}".strip()


def _telebot(ticket: Ticket):
    if not ticket.bot.is_active:
        raise outbox.Permanent("the ticket's bot is not active")
    configure()
    return telebot_for(ticket.bot)


def _send(tb, chat_id: int, text: str, photo: str | bytes | None, markup=None):
    pace(tb, chat_id)
    try:
        if photo:
            return tb.send_photo(chat_id, photo, caption=text, reply_markup=markup)
        return tb.send_message(chat_id, text, reply_markup=markup)
    except ApiTelegramException as exc:
        note_blocked(tb, chat_id, exc)
        raise telegram_failure(exc) from None
    except requests.RequestException as exc:
        raise ConnectionError(f"Telegram unreachable: {type(exc).__name__}") from None
