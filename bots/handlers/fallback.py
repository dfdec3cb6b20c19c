"""Text answering a question the bot asked, and what is left: unknown text, other content, old buttons."""
from __future__ import annotations

from bots.handlers import admin, payments, promo
from bots.handlers.common import on_callback, on_message
from bots.keyboards import main_menu

#: Session state -> the function the member's next text goes to.
TEXT_STATES = {
    promo.STATE: promo.on_text,
    payments.AMOUNT_STATE: payments.on_amount_text,
    payments.RECEIPT_STATE: payments.on_receipt_text,
    admin.REASON_STATE: admin.on_reason_text,
}


@on_message
def text(ctx, message):
    """Route a text to the question it answers; in a private chat, show the menu otherwise."""
    answer = TEXT_STATES.get(ctx.session.state)
    if answer is not None:
        return answer(ctx, message)
    if message.chat.type == "private":
        ctx.say("fallback.text", main_menu(ctx))
    return None


@on_message
def other_content(ctx, message):
    """Stickers, voice, locations...: a short hint in private chats, silence in groups."""
    if message.chat.type == "private":
        ctx.say("fallback.unsupported", main_menu(ctx))


@on_callback
def stale_button(ctx, call):
    """A button from an old message or an unknown one: say so instead of failing."""
    return ctx.t("stale.button")


def register(bot) -> None:
    is_plain_text = lambda m: not (m.text or "").startswith("/")  # noqa: E731
    bot.register_message_handler(text, content_types=["text"], func=is_plain_text, pass_bot=True)
    bot.register_message_handler(other_content, func=lambda m: True, pass_bot=True, content_types=[
        "text", "audio", "document", "animation", "sticker", "video", "video_note", "voice", "location",
        "contact", "venue", "dice", "poll"])
    bot.register_callback_query_handler(stale_button, func=lambda c: True, pass_bot=True)
