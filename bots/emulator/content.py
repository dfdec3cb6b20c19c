"""Checks Telegram applies to outgoing content: text, captions, parse_mode HTML, keyboards."""

from html.parser import HTMLParser

from .errors import bad_request

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_BYTES = 64
#: Tags Telegram's HTML parse_mode understands.
HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
             "a", "code", "pre", "blockquote", "tg-emoji"}
KEYBOARD_KINDS = {"inline_keyboard", "keyboard", "remove_keyboard", "force_reply"}


def message_text(text, parse_mode):
    """Return the text a sent message shows, or raise Telegram's 400."""
    text = visible_text(text or "", parse_mode)
    if not text.strip():
        raise bad_request("message text is empty")
    if len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    return text


def caption_text(caption, parse_mode):
    """Return a media caption as shown, None when absent, or raise Telegram's 400."""
    if not caption:
        return None
    caption = visible_text(caption, parse_mode)
    if len(caption) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return caption


def visible_text(text, parse_mode):
    """Return text as Telegram shows it: HTML markup removed; other modes kept as sent."""
    if (parse_mode or "").lower() != "html":
        return text
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    return parser.finish()


class _TelegramHtml(HTMLParser):
    """Strip the HTML subset Telegram supports and reject what it rejects."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.open_tags = []

    def handle_starttag(self, tag, attrs):
        if tag not in HTML_TAGS:
            raise bad_request(f'can\'t parse entities: Unsupported start tag "{tag}"')
        self.open_tags.append(tag)

    def handle_endtag(self, tag):
        if not self.open_tags or self.open_tags[-1] != tag:
            raise bad_request(f'can\'t parse entities: Unmatched end tag "{tag}"')
        self.open_tags.pop()

    def handle_data(self, data):
        self.parts.append(data)

    def finish(self):
        """Return the visible text once the whole input was fed."""
        if self.open_tags:
            raise bad_request("can't parse entities: Can't find end tag corresponding "
                              f'to start tag "{self.open_tags[-1]}"')
        return "".join(self.parts)


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
