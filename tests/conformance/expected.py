"""Expected Bot API behaviour, worked out by hand from the Bot API documentation
(https://core.telegram.org/bots/api#formatting-options, #messageentity, the method pages), not
taken from the sandbox. Offsets and lengths are in UTF-16 code units, as the docs specify.
"""

#: (parse_mode, text sent, text Telegram shows, entities it returns)
FORMATTED = [
    ("HTML",
     '<b>bold</b>, <i>italic</i>, <u>under</u>, <s>strike</s>, <tg-spoiler>spoiler</tg-spoiler>, '
     '<a href="http://www.example.com/">link</a>, <code>code</code>',
     "bold, italic, under, strike, spoiler, link, code",
     [{"type": "bold", "offset": 0, "length": 4},
      {"type": "italic", "offset": 6, "length": 6},
      {"type": "underline", "offset": 14, "length": 5},
      {"type": "strikethrough", "offset": 21, "length": 6},
      {"type": "spoiler", "offset": 29, "length": 7},
      {"type": "text_link", "offset": 38, "length": 4, "url": "http://www.example.com/"},
      {"type": "code", "offset": 44, "length": 4}]),
    ("HTML", "1 &lt; 2 &amp;&amp; <b>3 &gt; 2</b>", "1 < 2 && 3 > 2",
     [{"type": "bold", "offset": 9, "length": 5}]),
    ("HTML", '<pre><code class="language-python">print(1)</code></pre>', "print(1)",
     [{"type": "pre", "offset": 0, "length": 8, "language": "python"}]),
    ("HTML", "\U0001F600 <b>x</b>", "\U0001F600 x",  # the emoji is 2 UTF-16 code units
     [{"type": "bold", "offset": 3, "length": 1}]),
    ("MarkdownV2", r"*bold \*text*", "bold *text", [{"type": "bold", "offset": 0, "length": 10}]),
    ("MarkdownV2",
     r"_italic_ __underline__ ~strike~ ||spoiler|| [link](http://www.example.com/) `code`",
     "italic underline strike spoiler link code",
     [{"type": "italic", "offset": 0, "length": 6},
      {"type": "underline", "offset": 7, "length": 9},
      {"type": "strikethrough", "offset": 17, "length": 6},
      {"type": "spoiler", "offset": 24, "length": 7},
      {"type": "text_link", "offset": 32, "length": 4, "url": "http://www.example.com/"},
      {"type": "code", "offset": 37, "length": 4}]),
    ("MarkdownV2", "*bold _italic bold_ bold*", "bold italic bold bold",
     [{"type": "bold", "offset": 0, "length": 21}, {"type": "italic", "offset": 5, "length": 11}]),
    ("MarkdownV2", r"Price: 10\.5\! \#1", "Price: 10.5! #1", []),
    ("Markdown", "*bold* _italic_ [link](http://example.com/)", "bold italic link",
     [{"type": "bold", "offset": 0, "length": 4}, {"type": "italic", "offset": 5, "length": 6},
      {"type": "text_link", "offset": 12, "length": 4, "url": "http://example.com/"}]),
    # Entities Telegram finds by itself in plain text.
    (None, "see https://example.com/docs now", "see https://example.com/docs now",
     [{"type": "url", "offset": 4, "length": 24}]),
]

#: (parse_mode, text sent, Telegram's description of the 400)
PARSE_ERRORS = [
    ("MarkdownV2", "Hello.", "Bad Request: can't parse entities: Character '.' is reserved and must "
                             "be escaped with the preceding '\\'"),
    ("MarkdownV2", "a-b", "Bad Request: can't parse entities: Character '-' is reserved and must "
                          "be escaped with the preceding '\\'"),
    ("MarkdownV2", "*open", "Bad Request: can't parse entities: Can't find end of Bold entity at "
                            "byte offset 0"),
    ("Markdown", "x *open", "Bad Request: can't parse entities: Can't find end of the entity "
                            "starting at byte offset 2"),
    ("HTML", "<b>x", 'Bad Request: can\'t parse entities: Can\'t find end tag corresponding to '
                     'start tag "b"'),
    ("HTML", "<foo>x</foo>", "Bad Request: can't parse entities: Unsupported start tag \"foo\" at "
                             "byte offset 0"),
    ("HTML", "<b>x</i>", 'Bad Request: can\'t parse entities: Unmatched end tag at byte offset 4, '
                         'expected "</b>", found "</i>"'),
    ("Bogus", "x", "Bad Request: unsupported parse_mode"),
]

TOO_LONG_TEXT = "Bad Request: message is too long"
TOO_LONG_CAPTION = "Bad Request: message caption is too long"
EMPTY_TEXT = "Bad Request: message text is empty"
BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
CHAT_NOT_FOUND = "Bad Request: chat not found"
BLOCKED = "Forbidden: bot was blocked by the user"
WEBHOOK_CONFLICT = ("Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first")
TYPE_MISMATCH = "Bad Request: type of file mismatch"
NOT_AN_IMAGE = "Bad Request: IMAGE_PROCESS_FAILED"
HTTPS_ONLY = "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
BAD_PORT = "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
#: 64 bytes of callback_data is the limit: 32 two-byte letters fit, 33 do not.
DATA_64_BYTES, DATA_66_BYTES = "ж" * 32, "ж" * 33
#: ChatFullInfo fields both strict client models require (Bot API 9.0+).
CHAT_FULL_INFO_REQUIRED = {"id", "type", "accent_color_id", "max_reaction_count",
                           "accepted_gift_types"}
