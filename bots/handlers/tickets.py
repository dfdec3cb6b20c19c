"""Support tickets in the bot: the member opens and follows tickets; an admin answers by replying to a copy."""
from __future__ import annotations

from app.models import TicketStatus
from app.services import audit, images, settings, tickets
from app.services.errors import DomainError
from bots import formatting as fmt
from bots import media
from bots.context import current_bot
from bots.handlers.admin import is_admin
from bots.handlers.common import edit, error_text, feature_off, int_arg, on_callback, on_message, session_state
from bots.handlers.payments import is_image_document
from bots.keyboards import button, home_keyboard, home_row, keyboard

NEW_STATE = "ticket_new"
REPLY_STATE = "ticket_reply"
STATES = (NEW_STATE, REPLY_STATE)
FEATURE = "tickets"
STATUS_ICONS = {TicketStatus.OPEN.value: "🟡", TicketStatus.ANSWERED.value: "🟢", TicketStatus.CLOSED.value: "⚪"}


@on_callback
def support(ctx, call):
    """The support screen: the contact text, and tickets when the bot offers them."""
    contact = settings.get(ctx.bot, "support_contact")
    text = ctx.t("support.contact", contact=contact) if contact else ctx.t("support.none")
    rows = [] if feature_off(ctx, FEATURE) else [
        [button(ctx.t("ticket.new_button"), "tk:new"), button(ctx.t("ticket.list_button"), "tk:list")]]
    edit(ctx, call.message, text, keyboard(*rows, home_row(ctx)))


@on_callback
def ask_new(ctx, call):
    if feature_off(ctx, FEATURE):
        return ctx.t("feature.off")
    ctx.set_state(NEW_STATE)
    ctx.say("ticket.ask", home_keyboard(ctx))
    return None


@on_callback
def list_tickets(ctx, call):
    if feature_off(ctx, FEATURE):
        return ctx.t("feature.off")
    mine = tickets.of_member(ctx.member)
    if not mine:
        edit(ctx, call.message, ctx.t("ticket.none"), keyboard([button(ctx.t("ticket.new_button"), "tk:new")],
                                                               home_row(ctx)))
        return None
    rows = [[button(f"{STATUS_ICONS[t.status]} #{fmt.digits(ctx.lang, t.id)} {t.subject[:30]}", f"tk:open:{t.id}")]
            for t in mine]
    edit(ctx, call.message, ctx.t("ticket.list_title"), keyboard(*rows, home_row(ctx)))
    return None


@on_callback
def show_ticket(ctx, call):
    """The ticket's last messages and a button to write more."""
    ticket = _own_ticket(ctx, int_arg(call, 2))
    if ticket is None:
        return ctx.t("stale.button")
    lines = [ctx.t("ticket.title", number=fmt.digits(ctx.lang, ticket.id), status=ctx.t(f"ticket.status.{ticket.status}"))]
    for entry in ticket.messages[-6:]:
        who = ctx.t("ticket.you") if entry.author == "member" else ctx.t("ticket.staff")
        lines.append(f"{who}: {entry.text or '📷'}"[:600])
    ctx.send("\n\n".join(lines), keyboard([button(ctx.t("ticket.reply_button"), f"tk:add:{ticket.id}")],
                                          home_row(ctx)))
    return None


@on_callback
def ask_more(ctx, call):
    ticket = _own_ticket(ctx, int_arg(call, 2))
    if ticket is None:
        return ctx.t("stale.button")
    ctx.set_state(REPLY_STATE, ticket_id=ticket.id)
    ctx.say("ticket.ask_more", home_keyboard(ctx), number=fmt.digits(ctx.lang, ticket.id))
    return None


@on_message
def on_member_content(ctx, message):
    """Text, a photo or an image file while the bot waits for a ticket message."""
    try:
        photo_file_id, photo_path = _picture(ctx, message)
    except images.ImageRejected as exc:  # still waiting: the member may send a proper picture or text
        ctx.send(error_text(ctx, exc), home_keyboard(ctx))
        return None
    text = message.caption if (message.photo or message.document) else message.text
    try:
        if ctx.session.state == NEW_STATE:
            ticket = tickets.open_ticket(ctx.member, ctx.bot, text=text, photo_file_id=photo_file_id,
                                         photo_path=photo_path)
            key = "ticket.opened"
        else:
            ticket = tickets.get(ctx.tenant, int(ctx.session.session_data.get("ticket_id") or 0))
            tickets.member_writes(ticket, ctx.member, text=text, photo_file_id=photo_file_id, photo_path=photo_path)
            key = "ticket.added"
    except DomainError as exc:
        ctx.set_state(None)
        ctx.send(error_text(ctx, exc), home_keyboard(ctx))
        return None
    ctx.set_state(None)
    ctx.say(key, home_keyboard(ctx), number=fmt.digits(ctx.lang, ticket.id))
    return None


def _picture(ctx, message) -> tuple[str | None, str | None]:
    """(Telegram photo file_id, path of our re-encoded copy) of the message's picture, as receipts are kept.

    A document's file_id is no photo (sendPhoto refuses it), so only the clean copy of an image file is kept.
    """
    if not (message.photo or message.document):
        return None, None
    image = message.photo[-1] if message.photo else message.document
    clean = media.received_image(ctx.telebot, image, must_read=not message.photo)
    stem = f"{ctx.member.id}-{ctx.bot.id}-{message.message_id}"
    path = images.store(clean, f"tickets/{ctx.tenant.id}", stem) if clean else None
    return (image.file_id if message.photo else None), path


@on_message(admin_chats=True)
def on_admin_reply(ctx, message):
    """A reply to a ticket's copy in an admin chat answers the ticket."""
    ticket = tickets.by_admin_copy(ctx.bot, message.chat.id, message.reply_to_message.message_id)
    if ticket is None or not is_admin(ctx, message.from_user.id, message.chat):
        return None
    try:
        tickets.answer(ticket, message.text or message.caption or "", via="admin_chat",
                       actor=audit.actor_of(telegram_id=message.from_user.id))
    except DomainError as exc:
        ctx.send(error_text(ctx, exc))
        return None
    ctx.say("ticket.answer_sent", number=fmt.digits(ctx.lang, ticket.id))
    return None


def _own_ticket(ctx, ticket_id: int | None):
    try:
        ticket = tickets.get(ctx.tenant, ticket_id or 0)
    except DomainError:
        return None
    return ticket if ticket.member_id == ctx.member.id else None


def awaits_ticket(tb, message) -> bool:
    """Whether this private message answers the bot's "write your ticket" question (read before the context)."""
    if message.chat.type != "private" or message.from_user is None or (message.text or "").startswith("/"):
        return False
    return session_state(tb, message.from_user.id) in STATES


def replies_to_copy(tb, message) -> bool:
    reply = message.reply_to_message
    if reply is None or message.from_user is None or not (message.text or message.caption):
        return False
    return tickets.by_admin_copy(current_bot(tb), message.chat.id, reply.message_id) is not None


def register(bot) -> None:
    starts = lambda prefix: (lambda c: (c.data or "").startswith(prefix))  # noqa: E731
    bot.register_message_handler(on_admin_reply, content_types=["text", "photo"], pass_bot=True,
                                 func=lambda m: replies_to_copy(bot, m))
    bot.register_message_handler(on_member_content, content_types=["text", "photo", "document"], pass_bot=True,
                                 func=lambda m: awaits_ticket(bot, m) and (m.document is None or is_image_document(m)))
    bot.register_callback_query_handler(support, func=lambda c: c.data == "m:support", pass_bot=True)
    bot.register_callback_query_handler(ask_new, func=lambda c: c.data == "tk:new", pass_bot=True)
    bot.register_callback_query_handler(list_tickets, func=lambda c: c.data == "tk:list", pass_bot=True)
    bot.register_callback_query_handler(show_ticket, func=starts("tk:open:"), pass_bot=True)
    bot.register_callback_query_handler(ask_more, func=starts("tk:add:"), pass_bot=True)
