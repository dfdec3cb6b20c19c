"""Checks Telegram applies to outgoing content: text and captions with their entities, keyboards."""

from . import formatting
from .errors import bad_request

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_BYTES = 64
KEYBOARD_KINDS = {"inline_keyboard", "keyboard", "remove_keyboard", "force_reply"}


def message_text(text, parse_mode, entities=None):
    """Return {"text", "entities"?} of a sent message, or raise Telegram's 400."""
    shown, found = formatting.formatted(text or "", parse_mode, entities)
    if not shown:
        raise bad_request("message text is empty")
    if len(shown) > MAX_TEXT:
        raise bad_request("message is too long")
    return _with_entities({"text": shown}, "entities", found)


def caption_text(caption, parse_mode, entities=None):
    """Return {"caption", "caption_entities"?} of a media message ({} without one), or a 400."""
    if not caption:
        return {}
    shown, found = formatting.formatted(caption, parse_mode, entities)
    if len(shown) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return _with_entities({"caption": shown} if shown else {}, "caption_entities", found)


def _with_entities(body, name, entities):
    if entities:
        body[name] = entities
    return body


def reply_markup(markup):
    """Return a validated reply_markup (None when absent), or raise Telegram's 400."""
    if markup in (None, ""):
        return None
    if not isinstance(markup, dict) or not KEYBOARD_KINDS & markup.keys():
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"])
    return markup


def _check_inline_keyboard(rows):
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("can't parse inline keyboard button: "
                          "InlineKeyboardButton must be an Object")
    for button in (button for row in rows for button in row):
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise bad_request("can't parse inline keyboard button: Text must be a String")
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
