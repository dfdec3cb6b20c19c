"""Updates a simulated user sends: POST /sandbox/updates bodies turned into Telegram Updates."""

import base64
import binascii
import copy
import secrets

from . import inline
from .errors import ApiError, ControlError
from .formatting import detected_entities
from .state import is_allowed

UPDATE_KINDS = ("text", "photo", "document", "callback", "raw")


def post_update(state, body):
    """Queue the Update a control body describes; return {"update_id", "message_id"?...}."""
    kind = _single_kind(body)
    bot = state.find_bot(_int_field(body, "bot_id"))
    if kind == "raw":
        return _post_raw(state, bot, _raw_update(body["raw"]))
    user = _user(body.get("from"))
    chat = state.chat(bot, _chat_id(body, user), user)
    if kind == "callback":
        return _post_callback(state, bot, chat, user, body["callback"])
    record = chat.add(user, _message_content(state, kind, body), from_bot=False)
    answer = _queue(state, bot, {"message": copy.deepcopy(record.message)})
    return {**answer, "message_id": record.message_id}


def _queue(state, bot, update):
    """Queue an update unless the bot's allowed_updates leave its type out."""
    if not is_allowed(update, bot.allowed_updates):
        return {"update_id": None, "delivered": False}
    return {"update_id": state.enqueue(bot, update), "delivered": True}


def _post_raw(state, bot, update):
    """Queue a raw Update; the messages it carries enter the chat log, so they can be edited."""
    for kind in ("message", "edited_message", "channel_post", "edited_channel_post"):
        message = update.get(kind)
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            chat_id = _int_field(message["chat"], "id", f"raw.{kind}.chat.id")
            sender = message.get("from") or {}
            log = state.chat(bot, chat_id, sender)
            update[kind] = copy.deepcopy(log.put(message, sender.get("id") == bot.id).message)
    inline.remember(state, bot, update)
    return _queue(state, bot, update)


def _single_kind(body):
    if not isinstance(body, dict):
        raise ControlError(400, "request body must be a JSON object")
    present = [kind for kind in UPDATE_KINDS if body.get(kind) is not None]
    if len(present) != 1:
        raise ControlError(400, f"exactly one of {', '.join(UPDATE_KINDS)} is required; "
                                f"got {present or 'none'}")
    if present[0] != "raw" and not isinstance(body.get("from"), dict):
        raise ControlError(400, '"from" is required: {"id", "first_name", ...}')
    return present[0]


def _int_field(body, name, label=None):
    value = body.get(name)
    problem = f'"{label or name}" must be an integer'
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ControlError(400, problem)
    try:
        return int(value)
    except ValueError:
        raise ControlError(400, problem) from None


def _user(sender):
    user = {"id": _int_field(sender, "id", "from.id"), "is_bot": False,
            "first_name": str(sender.get("first_name") or "User")}
    for key in ("last_name", "username", "language_code"):
        if sender.get(key) is not None:
            user[key] = str(sender[key])
    return user


def _chat_id(body, user):
    return _int_field(body, "chat_id") if body.get("chat_id") is not None else user["id"]


def _message_content(state, kind, body):
    if kind == "text":
        return _text_content(body["text"])
    data = _decode_base64(body[kind], kind)
    if kind == "photo":
        try:
            content = {"photo": state.files.add_photo(data).as_photo_sizes()}
        except ApiError:
            raise ControlError(400, '"photo" must be a PNG, GIF or JPEG image') from None
    else:
        stored = state.files.add_document(data, body.get("file_name"), body.get("mime_type"))
        content = {"document": stored.as_document()}
    if body.get("caption"):
        content["caption"] = str(body["caption"])
    return content


def _text_content(text):
    if not isinstance(text, str) or not text:
        raise ControlError(400, '"text" must be a non-empty string')
    content = {"text": text}
    entities = detected_entities(text)
    if entities:
        content["entities"] = entities
    return content


def _decode_base64(value, kind):
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise ControlError(400, f'"{kind}" must be base64 of the file bytes') from None


def _post_callback(state, bot, chat, user, callback):
    if not isinstance(callback, dict) or not isinstance(callback.get("data"), str):
        raise ControlError(400, '"callback" must be {"message_id", "data"}')
    record = chat.find(_int_field(callback, "message_id", "callback.message_id"))
    if record is None or not record.from_bot:
        raise ControlError(400, f"no bot message {callback.get('message_id')} in chat "
                                f"{chat.chat['id']}")
    query = {"id": secrets.token_hex(8), "from": user, "message": copy.deepcopy(record.message),
             "chat_instance": str(chat.chat["id"]), "data": callback["data"]}
    return {**_queue(state, bot, {"callback_query": query}), "callback_query_id": query["id"]}


def _raw_update(raw):
    if not isinstance(raw, dict) or not raw:
        raise ControlError(400, '"raw" must be an Update object (without update_id)')
    return {key: value for key, value in raw.items() if key != "update_id"}
