"""parse_mode=MarkdownV2 and the legacy Markdown, following Telegram's parser (TDLib) closely."""

from dataclasses import dataclass, field

from .markup_text import TextBuilder, byte_offset, parse_error

RESERVED = "_*[]()~`>#+-=|{}.!"
#: How TDLib names entity types in "Can't find end of <Type> entity" errors.
ERROR_NAMES = {"bold": "Bold", "italic": "Italic", "underline": "Underline",
               "strikethrough": "Strikethrough", "spoiler": "Spoiler", "code": "Code",
               "pre": "Pre", "text_link": "TextUrl", "custom_emoji": "CustomEmoji"}
#: Opening character(s) -> entity type, longest first.
OPENERS = [("```", "pre"), ("__", "underline"), ("||", "spoiler"), ("![", "custom_emoji"),
           ("_", "italic"), ("*", "bold"), ("~", "strikethrough"), ("`", "code"),
           ("[", "text_link")]
CLOSERS = {"bold": "*", "italic": "_", "underline": "__", "strikethrough": "~", "spoiler": "||",
           "code": "`", "pre": "```", "text_link": "]", "custom_emoji": "]"}


@dataclass
class _Open:
    kind: str
    start: int
    source_index: int
    extra: dict = field(default_factory=dict)


def reserved_error(char):
    """Return the 400 for an unescaped reserved character."""
    return parse_error(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")


def parse_markdown_v2(source):
    """Return (visible text, entities) of a MarkdownV2 text, or raise Telegram's 400."""
    return _MarkdownV2(source).run()


class _MarkdownV2:
    def __init__(self, source):
        self.source = source
        self.out = TextBuilder()
        self.open = []
        self.quote_start = None

    def run(self):
        index = 0
        while index < len(self.source):
            index = self._step(index)
        self._end_quote()
        if self.open:
            top = self.open[-1]
            raise parse_error(f"Can't find end of {ERROR_NAMES[top.kind]} entity at byte offset "
                              f"{byte_offset(self.source, top.source_index)}")
        return self.out.text(), self.out.entities

    def _step(self, index):
        source, char = self.source, self.source[index]
        if char == "\\" and index + 1 < len(source) and 0 < ord(source[index + 1]) <= 126:
            self.out.append(source[index + 1])
            return index + 2
        in_code = self.open and self.open[-1].kind in ("code", "pre")
        if char == "\n":
            return self._newline(index)
        if char == ">" and not in_code and self._at_line_start() and self.quote_start is None:
            self.quote_start = self.out.offset
            return index + 1
        if char not in ("`" if in_code else RESERVED):
            self.out.append(char)
            return index + 1
        top = self.open[-1] if self.open else None
        if top and source.startswith(CLOSERS[top.kind], index) and not (
                top.kind == "italic" and source.startswith("__", index)):
            return self._close(index)
        return self._open(index)

    def _at_line_start(self):
        text = self.out.text()
        return not text or text.endswith("\n")

    def _newline(self, index):
        if self.quote_start is not None and not self.source.startswith(">", index + 1):
            self._end_quote()
        self.out.append("\n")
        if self.quote_start is not None:
            return index + 2  # the next line's ">" continues the quote
        return index + 1

    def _end_quote(self):
        if self.quote_start is not None:
            self.out.add_entity("blockquote", self.quote_start)
            self.quote_start = None

    def _open(self, index):
        for opener, kind in OPENERS:
            if self.source.startswith(opener, index):
                entity = _Open(kind, self.out.offset, index)
                self.open.append(entity)
                end = index + len(opener)
                return self._pre_language(entity, end) if kind == "pre" else end
        raise reserved_error(self.source[index])

    def _pre_language(self, entity, index):
        source = self.source
        end = index
        while end < len(source) and not source[end].isspace() and source[end] != "`":
            end += 1
        if end != index and end < len(source) and source[end] != "`":
            entity.extra["language"] = source[index:end]
            index = end
        if source.startswith(("\r\n", "\n\r"), index):
            return index + 2
        if source[index:index + 1] in ("\n", "\r"):
            return index + 1
        entity.start = self.out.offset
        return index

    def _close(self, index):
        entity = self.open.pop()
        entity.start = min(entity.start, self.out.offset)
        end = index + len(CLOSERS[entity.kind])
        if entity.kind == "text_link":
            url, end = self._link_target(index)
            if url.startswith("tg://user?id="):
                self.out.add_entity("text_mention", entity.start, user={
                    "id": int(url.split("=", 1)[1]), "is_bot": False, "first_name": ""})
            elif url:
                self.out.add_entity("text_link", entity.start, url=url)
        elif entity.kind == "custom_emoji":
            url, end = self._link_target(index)
            self.out.add_entity("custom_emoji", entity.start,
                                custom_emoji_id=url.rsplit("id=", 1)[-1])
        else:
            self.out.add_entity(entity.kind, entity.start, **entity.extra)
        return end

    def _link_target(self, index):
        source = self.source
        if not source.startswith("(", index + 1):
            return "", index + 1
        start = position = index + 2
        url = []
        while position < len(source) and source[position] != ")":
            if source[position] == "\\" and position + 1 < len(source):
                position += 1
            url.append(source[position])
            position += 1
        if position >= len(source):
            raise parse_error(f"Can't find end of a URL at byte offset {byte_offset(source, start)}")
        return "".join(url), position + 1


LEGACY_SPECIAL = "_*`["
LEGACY_KINDS = {"_": "italic", "*": "bold", "`": "code", "[": "text_link"}


def parse_markdown(source):
    """Return (visible text, entities) of a legacy Markdown text, or raise Telegram's 400."""
    out = TextBuilder()
    index = 0
    while index < len(source):
        char = source[index]
        if char == "\\" and source[index + 1:index + 2] in tuple(LEGACY_SPECIAL):
            out.append(source[index + 1])
            index += 2
        elif char not in LEGACY_SPECIAL:
            out.append(char)
            index += 1
        else:
            index = _legacy_entity(source, index, out)
    return out.text(), out.entities


def _legacy_entity(source, begin, out):
    char = source[begin]
    kind, end_mark = LEGACY_KINDS[char], "]" if char == "[" else char
    index = begin + 1
    language = None
    if source.startswith("```", begin):
        kind, end_mark = "pre", "```"
        language, index = _legacy_pre_start(source, begin + 3)
    close = source.find(end_mark, index)
    if close < 0:
        raise parse_error("Can't find end of the entity starting at byte offset "
                          f"{byte_offset(source, begin)}")
    start = out.offset
    out.append(source[index:close])
    after = close + len(end_mark)
    if kind == "text_link":
        if not source.startswith("(", after) or source.find(")", after) < 0:
            return after  # "[text]" without a target is plain text
        url_end = source.find(")", after)
        out.add_entity("text_link", start, url=source[after + 1:url_end])
        return url_end + 1
    out.add_entity(kind, start, **({"language": language} if language else {}))
    return after


def _legacy_pre_start(source, index):
    """Return (language or None, start of the code) after "```", as TDLib reads it: a word up to
    whitespace is the language, then one line break is skipped."""
    end = index
    while end < len(source) and not source[end].isspace() and source[end] != "`":
        end += 1
    language = None
    if end != index and end < len(source) and source[end] != "`":
        language, index = source[index:end], end
    if source[index:index + 2] in ("\r\n", "\n\r"):
        return language, index + 2
    if source[index:index + 1] in ("\n", "\r"):
        return language, index + 1
    return language, index
