"""parse_mode=HTML as Telegram parses it: the supported tags become entities, errors are 400s."""

import html
import re

from .markup_text import TextBuilder, byte_offset, parse_error

#: Tag -> entity type; "a", "pre", "code", "span", "blockquote" and "tg-emoji" are special-cased.
SIMPLE_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler",
}
SPECIAL_TAGS = {"a", "pre", "code", "span", "blockquote", "tg-emoji"}
TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
ATTRIBUTE = re.compile(r"\s*([A-Za-z-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+))?")
ENTITY = re.compile(r"&(#[0-9]+|#x[0-9A-Fa-f]+|lt|gt|amp|quot);")


def parse_html(source):
    """Return (visible text, entities) of an HTML-formatted text, or raise Telegram's 400."""
    parser = _Parser(source)
    parser.run()
    return parser.out.text(), parser.out.entities


class _Parser:
    def __init__(self, source):
        self.source = source
        self.out = TextBuilder()
        self.open = []  # (tag, attributes, start offset)

    def run(self):
        position = 0
        while position < len(self.source):
            tag_at = self.source.find("<", position)
            if tag_at < 0:
                self._text(self.source[position:])
                break
            self._text(self.source[position:tag_at])
            position = self._tag(tag_at)
        if self.open:
            raise parse_error("Can't find end tag corresponding to start tag "
                              f'"{self.open[-1][0]}"')

    def _text(self, chunk):
        if chunk:
            self.out.append(ENTITY.sub(lambda match: html.unescape(match.group(0)), chunk))

    def _tag(self, at):
        if self.source.startswith("</", at):
            return self._end_tag(at)
        name_match = TAG_NAME.match(self.source, at + 1)
        name = name_match.group(0).lower() if name_match else ""
        if name not in SIMPLE_TAGS and name not in SPECIAL_TAGS:
            raise parse_error(f'Unsupported start tag "{name}" at byte offset '
                              f"{byte_offset(self.source, at)}")
        attributes, end = self._attributes(name_match.end(), at)
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise parse_error('Tag "span" must have class "tg-spoiler" at byte offset '
                              f"{byte_offset(self.source, at)}")
        self.open.append((name, attributes, self.out.offset))
        return end

    def _attributes(self, position, at):
        attributes = {}
        while True:
            close = re.compile(r"\s*/?>").match(self.source, position)
            if close:
                return attributes, close.end()
            match = ATTRIBUTE.match(self.source, position)
            if not match or match.end() == position:
                raise parse_error(f"Unclosed start tag at byte offset {byte_offset(self.source, at)}")
            value = match.group(2) or ""
            if value[:1] in ("'", '"'):
                value = value[1:-1]
            attributes[match.group(1).lower()] = html.unescape(value)
            position = match.end()

    def _end_tag(self, at):
        end = self.source.find(">", at)
        if end < 0:
            raise parse_error(f"Unclosed end tag at byte offset {byte_offset(self.source, at)}")
        name = self.source[at + 2:end].strip().lower()
        if not self.open:
            raise parse_error(f"Unexpected end tag at byte offset {byte_offset(self.source, at)}")
        expected, attributes, start = self.open.pop()
        if name != expected:
            raise parse_error(f"Unmatched end tag at byte offset {byte_offset(self.source, at)}, "
                              f'expected "</{expected}>", found "</{name}>"')
        self._entity(name, attributes, start)
        return end + 1

    def _entity(self, name, attributes, start):
        out = self.out
        if name in SIMPLE_TAGS or name == "span":
            out.add_entity(SIMPLE_TAGS.get(name, "spoiler"), start)
        elif name == "a":
            out.add_entity("text_link", start, url=attributes.get("href", ""))
        elif name == "code":
            if self.open and self.open[-1][0] == "pre":  # <pre><code class="language-x">
                if attributes.get("class", "").startswith("language-"):
                    self.open[-1][1]["language"] = attributes["class"].removeprefix("language-")
            else:
                out.add_entity("code", start)
        elif name == "pre":
            language = attributes.get("language")
            out.add_entity("pre", start, **({"language": language} if language else {}))
        elif name == "blockquote":
            kind = "expandable_blockquote" if "expandable" in attributes else "blockquote"
            out.add_entity(kind, start)
        else:
            out.add_entity("custom_emoji", start, custom_emoji_id=attributes.get("emoji-id", ""))
