"""Wrappers that turn `fn(ctx, update)` into pyTelegramBotAPI handlers `(message, bot)` / `(call, bot)`."""
from __future__ import annotations

import inspect

import sqlalchemy as sa

from app.extensions import db
from app.models import BotSession, Member
from app.services.bots import feature_enabled
from app.services.errors import DomainError
from bots import i18n, replies
from bots.context import Context, load_context

#: Telegram's service accounts: 777000 posts a linked channel's automatic forwards, 1087968824
#: (GroupAnonymousBot) speaks for anonymous group admins, 136817688 (Channel_Bot) for channels.
SERVICE_ACCOUNTS = frozenset({777000, 1087968824, 136817688})


def is_person(user) -> bool:
    """A human Telegram account: never a bot (from.is_bot) nor one of Telegram's service accounts."""
    return user is not None and not user.is_bot and user.id not in SERVICE_ACCOUNTS


def on_message(fn=None, *, admin_chats: bool = False):
    """A message handler that loads the context and stops banned members with one short reply.

    Members register and talk in private chats only: a message in a group, supergroup or channel, or one
    sent by a bot, a service account or on behalf of a chat (`sender_chat`), is left alone (no member, no
    reply). `admin_chats=True` handlers (whose filters already matched an admin action: a reply to a
    ticket copy, a rejection reason) also run in groups.
    """
    if fn is None:
        return lambda f: on_message(f, admin_chats=admin_chats)

    def handler(message, bot):
        if not is_person(message.from_user) or message.sender_chat is not None:
            return None
        if message.chat.type != "private" and not admin_chats:
            return None
        ctx = load_context(bot, message.from_user, message.chat.id, thread_id=topic_of(message))
        if ctx.member.is_banned:
            ctx.say("banned")
            return None
        return fn(ctx, message)
    return _named(handler, fn)


def topic_of(message) -> int | None:
    """The forum topic a message is in (replies go there, not to General); None outside topics."""
    return getattr(message, "message_thread_id", None) if getattr(message, "is_topic_message", None) else None


class Alert(str):
    """A button answer the user must dismiss (show_alert), for refusals: a toast is easily missed."""


def on_callback(fn=None, *, admin_chats: bool = False):
    """A callback handler; whatever text `fn` returns becomes the answer to the button press
    (an Alert is shown as a dialog, other text as a toast).

    A button on an inline message (`inline_message_id`, no `message`) or on a group's message (unless
    `admin_chats`) is answered without touching members; a bot or service account gets an empty answer.
    """
    if fn is None:
        return lambda f: on_callback(f, admin_chats=admin_chats)

    def handler(call, bot):
        if not is_person(call.from_user):
            answer_callback(bot, call, None)
            return
        if call.message is None:
            answer_callback(bot, call, i18n.t(i18n.normalize_language(call.from_user.language_code),
                                              "callback.open_bot"))
            return
        if call.message.chat.type != "private" and not admin_chats:
            answer_callback(bot, call, None)
            return
        ctx = load_context(bot, call.from_user, call.message.chat.id, thread_id=topic_of(call.message))
        answer = ctx.t("banned") if ctx.member.is_banned else fn(ctx, call)
        answer_callback(bot, call, answer, alert=isinstance(answer, Alert))
    return _named(handler, fn)


def session_state(tb, telegram_id: int) -> str | None:
    """The conversation state of this Telegram user with this bot, read without loading (or creating) a member."""
    return db.session.scalar(sa.select(BotSession.state).join(Member, Member.id == BotSession.member_id).where(
        BotSession.bot_id == tb.botfleet_bot_id, Member.telegram_id == telegram_id))


def answer_callback(bot, call, text: str | None, alert: bool = False) -> None:
    """Answer the button press once the update commits (an answer Telegram refuses is only logged)."""
    replies.call(bot, "answer_callback_query", callback_query_id=call.id, text=text[:200] if text else None,
                 show_alert=alert)


def arg(call, index: int = 1) -> str:
    """The `index`-th colon-separated part of the callback data ('' when missing)."""
    parts = (call.data or "").split(":")
    return parts[index] if len(parts) > index else ""


def int_arg(call, index: int = 1) -> int | None:
    value = arg(call, index)
    return int(value) if value.isdigit() and len(value) < 19 else None


def feature_off(ctx: Context, key: str) -> bool:
    return not feature_enabled(ctx.bot, key)


def error_text(ctx: Context, error: DomainError) -> str:
    """A translated text for a refused operation, by its code; its own message when we have none."""
    key = f"error.{error.code}"
    if i18n.has_key(ctx.lang, key):
        return ctx.t(key)
    return error.message


def edit(ctx: Context, message, text: str, markup=None) -> None:
    """Replace a message's text (or caption) once the update commits; Telegram refusing it is only logged."""
    where = {"chat_id": message.chat.id, "message_id": message.message_id, "reply_markup": markup}
    if getattr(message, "content_type", "text") == "photo":
        replies.call(ctx.telebot, "edit_message_caption", caption=text[:1024], **where)
    else:
        replies.call(ctx.telebot, "edit_message_text", text=text[:4096], **where)


def _named(handler, fn):
    # Not functools.wraps: pyTelegramBotAPI reads the signature, which must stay (update, bot). It reads it on
    # every update (inspect.signature); kept on the function, it is not rebuilt from the code each time.
    handler.__name__ = fn.__name__
    handler.__qualname__ = fn.__qualname__
    handler.__doc__ = fn.__doc__
    handler.__signature__ = inspect.signature(handler)
    return handler
