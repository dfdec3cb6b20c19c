"""Formatted text: parse_mode or an explicit `entities` list -> (text, entities) as Telegram stores.

Telegram also detects some entities by itself (links, e-mail addresses, @mentions, #hashtags,
/commands) and strips surrounding whitespace; both are done here.
"""

import re

from .errors import bad_request
from .formatting_html import parse_html
from .formatting_markdown import parse_markdown, parse_markdown_v2
from .markup_text import parse_error, sort_entities, strip_text, utf16_length

PARSERS = {"html": parse_html, "markdown": parse_markdown, "markdownv2": parse_markdown_v2}
ENTITY_TYPES = {
    "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number", "bold",
    "italic", "underline", "strikethrough", "spoiler", "blockquote", "expandable_blockquote",
    "code", "pre", "text_link", "text_mention", "custom_emoji", "date_time",
}
#: Entities inside which Telegram detects nothing.
OPAQUE = {"code", "pre", "text_link", "text_mention", "url", "email", "custom_emoji"}
DETECTORS = [
    ("url", re.compile(r"\b(?:https?|tg|ftp)://[^\s<>\"]+[^\s<>\".,;:!?'()\]]")),
    ("email", re.compile(r"\b[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}\b")),
    # International numbers as Telegram links them: "+" and 7-15 digits, no separators.
    ("phone_number", re.compile(r"(?<![\w+])\+\d{7,15}(?!\w)")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z][A-Za-z0-9_]{3,31})?\b")),
]


def formatted(text, parse_mode=None, entities=None):
    """Return (text, entities) Telegram would store, or raise its 400 for bad formatting."""
    if entities not in (None, ""):
        found = _given_entities(text, entities)
    elif parse_mode in (None, ""):
        found = []
    else:
        parser = PARSERS.get(str(parse_mode).lower())
        if parser is None:
            raise bad_request("unsupported parse_mode")
        text, found = parser(text)
    text, found = strip_text(text, found)
    return text, sort_entities(found + detected_entities(text, found))


def _given_entities(text, entities):
    if not isinstance(entities, list):
        raise bad_request("can't parse entities JSON object")
    size = utf16_length(text)
    kept = []
    for entity in entities:
        if not isinstance(entity, dict) or entity.get("type") not in ENTITY_TYPES:
            raise parse_error("Unsupported entity type")
        offset, length = entity.get("offset"), entity.get("length")
        if not isinstance(offset, int) or not isinstance(length, int):
            raise parse_error("Entity offset and length must be integers")
        if length > 0 and 0 <= offset < size:
            kept.append({**entity, "length": min(length, size - offset)})
    return kept


def detected_entities(text, present=()):
    """Return the entities Telegram finds by itself, outside code, pre and links."""
    blocked = [(e["offset"], e["offset"] + e["length"]) for e in present if e["type"] in OPAQUE]
    found = []
    for kind, pattern in DETECTORS:
        for match in pattern.finditer(text):
            start = utf16_length(text[:match.start()])
            end = start + utf16_length(match.group(0))
            if not any(start < stop and begin < end for begin, stop in blocked):
                found.append({"type": kind, "offset": start, "length": end - start})
                blocked.append((start, end))
    return found
