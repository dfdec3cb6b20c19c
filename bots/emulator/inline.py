"""Messages sent via inline mode, known by inline_message_id, and their edits.

They appear when an update carries an inline_message_id (a chosen_inline_result or a
callback_query from such a message, injected as `raw`), and the bot can then edit them.
"""

import time

from .errors import bad_request

NOT_MODIFIED = ("message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message")


def remember(state, bot, update):
    """Record any inline message an injected update refers to."""
    for kind in ("chosen_inline_result", "callback_query"):
        inline_message_id = (update.get(kind) or {}).get("inline_message_id")
        if inline_message_id:
            state.inline_messages.setdefault((bot.id, str(inline_message_id)), {
                "inline_message_id": str(inline_message_id), "bot_id": bot.id})


def edit(call, new, fields, markup):
    """Edit an inline message's text, caption or keyboard; answers True as Telegram does."""
    key = (call.bot.id, call.str("inline_message_id"))
    message = call.state.inline_messages.get(key)
    if message is None:
        raise bad_request("MESSAGE_ID_INVALID")
    if all(message.get(name) == new.get(name) for name in fields) and (
            message.get("reply_markup") == markup):
        raise bad_request(NOT_MODIFIED)
    for name in fields:
        message.pop(name, None)
    message.update(new)
    message["reply_markup"] = markup
    message["edit_date"] = int(time.time())
    return True


def listing(state, bot_id):
    """Return the inline messages of a bot (GET /sandbox/inline-messages)."""
    return [dict(message) for (owner, _), message in state.inline_messages.items()
            if owner == bot_id]
