"""Bot API methods that send messages: sendMessage, sendPhoto, sendDocument, forward, copy."""

import copy

from . import content
from .errors import bad_request
from .params import Upload

#: Message fields that carry content, copied by forwardMessage and copyMessage.
CONTENT_FIELDS = ("text", "entities", "caption", "caption_entities", "photo", "document")


def send_message(call):
    """sendMessage."""
    return _send(call, content.message_text(call.str("text"), call.str("parse_mode"),
                                            call.params.get("entities")))


def send_photo(call):
    """sendPhoto: an image upload or the file_id of a stored photo, in several sizes."""
    stored = _stored_file(call, "photo", lambda upload: call.state.files.add_photo(upload.data))
    return _send(call, {"photo": stored.as_photo_sizes(), **_caption(call)})


def send_document(call):
    """sendDocument: a multipart upload or the file_id of a stored file."""
    files = call.state.files
    stored = _stored_file(call, "document", lambda upload: files.add_document(
        upload.data, upload.file_name, upload.mime_type))
    return _send(call, {"document": stored.as_document(), **_caption(call)})


def forward_message(call):
    """forwardMessage: the same content in another chat, marked with its origin."""
    source = _source_message(call, "message to forward not found")
    origin = {"type": "user", "sender_user": source["from"], "date": source["date"]}
    return _send(call, {**_content_of(source), "forward_origin": origin}, with_markup=False)


def copy_message(call):
    """copyMessage: the same content without a link to the original; answers its message_id."""
    body = _content_of(_source_message(call, "message to copy not found"))
    if call.has("caption") and ("photo" in body or "document" in body):
        body.pop("caption_entities", None)
        body.pop("caption", None)
        body.update(_caption(call))
    return {"message_id": _send(call, body)["message_id"]}


def _send(call, body, with_markup=True):
    chat = target_chat(call)
    markup = content.reply_markup(call.params.get("reply_markup")) if with_markup else None
    reply_to = _replied_message(call, chat)
    if reply_to:
        body["reply_to_message"] = reply_to
    if call.has("message_thread_id"):
        body["message_thread_id"] = call.int("message_thread_id")
    record = chat.add(call.bot.user(), body, from_bot=True, markup=markup)
    return record.message


def target_chat(call, name="chat_id"):
    """Return the ChatLog of a chat the bot may write to, or raise 400 "chat not found"."""
    chat_id = call.params.get(name)
    if chat_id in (None, ""):
        raise bad_request(f"{name} is empty")
    try:
        chat_id = int(chat_id)
    except (TypeError, ValueError):
        raise bad_request("chat not found") from None
    return call.state.known_chat(call.bot, chat_id)


def _replied_message(call, chat):
    reply = call.params.get("reply_parameters")
    message_id = reply.get("message_id") if isinstance(reply, dict) else None
    message_id = message_id or call.int("reply_to_message_id")
    if not message_id:
        return None
    record = chat.find(int(message_id))
    if record is None:
        raise bad_request("message to be replied not found")
    return {key: value for key, value in record.message.items() if key != "reply_to_message"}


def _stored_file(call, name, store_upload):
    value = call.params.get(name)
    if isinstance(value, Upload):
        return store_upload(value)
    if not value:
        raise bad_request(f"there is no {name} in the request")
    stored = call.state.files.get(str(value))
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if stored.kind != name:
        raise bad_request("type of file mismatch")
    return stored


def _caption(call):
    return content.caption_text(call.str("caption"), call.str("parse_mode"),
                                call.params.get("caption_entities"))


def _source_message(call, not_found):
    chat = target_chat(call, "from_chat_id")
    record = chat.find(call.int("message_id", missing="message identifier is not specified"))
    if record is None:
        raise bad_request(not_found)
    return record.message


def _content_of(message):
    return {key: copy.deepcopy(message[key]) for key in CONTENT_FIELDS if key in message}
