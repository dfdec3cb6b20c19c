"""Wrappers that turn `fn(ctx, update)` into pyTelegramBotAPI handlers `(message, bot)` / `(call, bot)`."""
from __future__ import annotations

from app.services.bots import feature_enabled
from app.services.errors import DomainError
from bots import i18n, replies
from bots.context import Context, load_context


def on_message(fn):
    """A message handler that loads the context and stops banned members with one short reply."""
    def handler(message, bot):
        if message.from_user is None or message.chat.type == "channel":
            return None
        ctx = load_context(bot, message.from_user, message.chat.id)
        if ctx.member.is_banned:
            ctx.say("banned")
            return None
        return fn(ctx, message)
    return _named(handler, fn)


class Alert(str):
    """A button answer the user must dismiss (show_alert), for refusals: a toast is easily missed."""


def on_callback(fn):
    """A callback handler; whatever text `fn` returns becomes the answer to the button press
    (an Alert is shown as a dialog, other text as a toast)."""
    def handler(call, bot):
        chat_id = call.message.chat.id if call.message else call.from_user.id
        ctx = load_context(bot, call.from_user, chat_id)
        answer = ctx.t("banned") if ctx.member.is_banned else fn(ctx, call)
        answer_callback(bot, call, answer, alert=isinstance(answer, Alert))
    return _named(handler, fn)


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
    # Not functools.wraps: pyTelegramBotAPI reads the signature, which must stay (update, bot).
    handler.__name__ = fn.__name__
    handler.__qualname__ = fn.__qualname__
    handler.__doc__ = fn.__doc__
    return handler
