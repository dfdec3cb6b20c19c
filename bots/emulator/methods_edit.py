"""Bot API methods that change or read what was sent: edits, deletes, callbacks, files."""

import time

from . import content, inline
from .errors import bad_request
from .methods_send import target_chat

NOT_MODIFIED = ("message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message")
INVALID_QUERY = "query is too old and response timeout expired or query ID is invalid"


def edit_message_text(call):
    """editMessageText; like Telegram, leaving out reply_markup removes the inline keyboard."""
    new = content.message_text(call.str("text"), call.str("parse_mode"), call.params.get("entities"))
    markup = content.reply_markup(call.params.get("reply_markup"))
    if call.has("inline_message_id"):
        return inline.edit(call, new, ("text", "entities"), markup)
    record = _editable_message(call)
    if "text" not in record.message:
        raise bad_request("there is no text in the message to edit")
    return _apply_edit(record, new, ("text", "entities"), markup)


def edit_message_caption(call):
    """editMessageCaption."""
    new = content.caption_text(call.str("caption"), call.str("parse_mode"),
                               call.params.get("caption_entities"))
    markup = content.reply_markup(call.params.get("reply_markup"))
    if call.has("inline_message_id"):
        return inline.edit(call, new, ("caption", "caption_entities"), markup)
    return _apply_edit(_editable_message(call), new, ("caption", "caption_entities"), markup)


def edit_message_reply_markup(call):
    """editMessageReplyMarkup: replace or (when absent) remove the inline keyboard."""
    markup = content.reply_markup(call.params.get("reply_markup"))
    if call.has("inline_message_id"):
        return inline.edit(call, {}, (), markup)
    record = _editable_message(call)
    if markup == record.message.get("reply_markup"):
        raise bad_request(NOT_MODIFIED)
    record.set_markup(markup)
    return _mark_edited(record)


def _apply_edit(record, new, fields, markup):
    message = record.message
    if all(message.get(name) == new.get(name) for name in fields) and (
            message.get("reply_markup") == markup):
        raise bad_request(NOT_MODIFIED)
    for name in fields:
        message.pop(name, None)
    message.update(new)
    record.set_markup(markup)
    return _mark_edited(record)


def _mark_edited(record):
    record.edited = True
    record.message["edit_date"] = int(time.time())
    return record.message


def _editable_message(call):
    chat = target_chat(call)
    record = chat.find(call.int("message_id", missing="message identifier is not specified"))
    if record is None:
        raise bad_request("message to edit not found")
    if not record.from_bot:
        raise bad_request("message can't be edited")
    return record


def delete_message(call):
    """deleteMessage: the message disappears from the chat log."""
    chat = target_chat(call)
    record = chat.find(call.int("message_id", missing="message identifier is not specified"))
    if record is None:
        raise bad_request("message to delete not found")
    record.deleted = True
    return True


def answer_callback_query(call):
    """answerCallbackQuery: recorded for GET /sandbox/callback-answers."""
    query_id = call.str("callback_query_id", "")
    if query_id not in call.state.callback_query_ids:
        raise bad_request(INVALID_QUERY)
    call.state.callback_answers.append({
        "bot_id": call.bot.id, "callback_query_id": query_id, "text": call.str("text"),
        "show_alert": call.bool("show_alert"), "url": call.str("url"), "at": time.time()})
    return True


#: Bots may download files up to 20 MB through getFile, as on Telegram's cloud Bot API.
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


def get_file(call):
    """getFile: the File object with the file_path to download from /file/bot<token>/."""
    stored = call.state.files.get(call.str("file_id", ""))
    if stored is None:
        raise bad_request("invalid file_id")
    if len(stored.data) > MAX_DOWNLOAD_BYTES:
        raise bad_request("file is too big")
    return stored.as_file()


def get_chat(call):
    """getChat: the ChatFullInfo of a chat the bot may write to (400 "chat not found" else)."""
    log = target_chat(call)
    chat = log.chat
    private = chat["type"] == "private"
    pinned = {"pinned_message": log.pinned_message()} if log.pinned_message() else {}
    return {**chat, **pinned, "accent_color_id": abs(chat["id"]) % 7,
            "max_reaction_count": 11,
            "accepted_gift_types": {"unlimited_gifts": private, "limited_gifts": private,
                                    "unique_gifts": private, "premium_subscription": private,
                                    "gifts_from_channels": private}}
