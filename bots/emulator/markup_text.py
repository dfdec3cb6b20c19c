"""Text with entities: offsets in UTF-16 code units, as the Bot API counts them.

The parsers (formatting_html.py, formatting_markdown.py) append plain text and open/close entities
on a TextBuilder; errors are Telegram's "can't parse entities: ..." 400s with UTF-8 byte offsets.
"""

from .errors import bad_request


def utf16_length(text):
    """Return the length of text in UTF-16 code units (astral characters count 2)."""
    return len(text.encode("utf-16-le")) // 2


def byte_offset(text, index):
    """Return the UTF-8 byte offset of text[index], as Telegram reports positions."""
    return len(text[:index].encode("utf-8"))


def parse_error(detail):
    """Return the 400 Telegram answers when formatting cannot be parsed."""
    return bad_request(f"can't parse entities: {detail}")


class TextBuilder:
    """The visible text being built and the entities found in it."""

    def __init__(self):
        self.parts = []
        self.offset = 0
        self.entities = []

    def append(self, text):
        """Add visible text."""
        self.parts.append(text)
        self.offset += utf16_length(text)

    def add_entity(self, kind, start, **extra):
        """Record an entity from `start` to the current offset (empty entities are dropped)."""
        if self.offset > start:
            self.entities.append({"type": kind, "offset": start, "length": self.offset - start,
                                  **extra})

    def text(self):
        """Return the visible text built so far."""
        return "".join(self.parts)


def sort_entities(entities):
    """Order entities as Telegram does: by offset, longer (outer) first."""
    return sorted(entities, key=lambda entity: (entity["offset"], -entity["length"]))


def strip_text(text, entities):
    """Strip surrounding whitespace as Telegram does, shifting and clipping the entities."""
    stripped_left = text.lstrip()
    shift = utf16_length(text) - utf16_length(stripped_left)
    result = stripped_left.rstrip()
    size = utf16_length(result)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return result, kept
