"""A stand-in handler set for engine tests (the real conversations live in bots/handlers/)."""
from telebot import types, util

from app.extensions import db
from app.models import AuditLog
from bots import replies


def register(tb) -> None:
    """Register /start (writes a row, replies after the commit as our handlers do), /twice (two replies), /boom (a bug), an echo and a callback answer."""

    @tb.message_handler(commands=["start"])
    def start(message):
        db.session.add(AuditLog(tenant_id=tb.botfleet_tenant_id, actor=f"telegram:{message.from_user.id}",
                                action="test.start", target=f"bot:{tb.botfleet_bot_id}",
                                data={"text": message.text}))
        db.session.flush()
        replies.call(tb, "send_message", chat_id=message.chat.id, text=f"hello from {tb.botfleet_bot_id}")

    @tb.message_handler(commands=["twice"])
    def twice(message):
        for n in (1, 2):
            replies.call(tb, "send_message", chat_id=message.chat.id, text=f"reply {n} of 2")

    @tb.message_handler(commands=["boom"])
    def boom(message):
        db.session.add(AuditLog(tenant_id=tb.botfleet_tenant_id, actor="test", action="test.boom"))
        db.session.flush()
        raise RuntimeError("a handler bug")

    @tb.message_handler(commands=["buttons"])
    def buttons(message):
        markup = types.InlineKeyboardMarkup()
        markup.add(types.InlineKeyboardButton("Yes", callback_data="yes"),
                   types.InlineKeyboardButton("No", callback_data="no"))
        tb.send_message(message.chat.id, "Continue?", reply_markup=markup)

    @tb.message_handler(content_types=util.content_type_media)
    def echo(message):
        db.session.add(AuditLog(tenant_id=tb.botfleet_tenant_id, actor="test", action="test.echo",
                                data={"text": (message.text or "")[:100]}))
        db.session.flush()
        tb.send_message(message.chat.id, f"echo: {(message.text or message.content_type)[:100]}")

    @tb.callback_query_handler(func=lambda call: True)
    def button(call):
        tb.answer_callback_query(call.id, "pressed")
        if call.message and call.data in ("yes", "no"):
            tb.edit_message_text(f"you chose {call.data}", call.message.chat.id, call.message.message_id)
