"""Keep bot tokens out of logs: a filter that masks anything shaped like a token, messages and tracebacks alike."""
from __future__ import annotations

import logging
import re

#: <bot id>:<secret>, the secret holding at least one letter, dash or underscore (so "100:54321" is left alone).
TOKEN_PATTERN = re.compile(r"(?<!\d)(\d{3,20}):(?=[A-Za-z0-9_-]*[A-Za-z_-])[A-Za-z0-9_-]{5,}")
MASK = r"\1:<redacted>"
#: Loggers that may see a token: the library's, ours, Flask's and werkzeug's.
GUARDED_LOGGERS = ("TeleBot", "bots", "app", "werkzeug", "sqlalchemy.engine")


def redact(text: str) -> str:
    """The text with every token-shaped substring masked, the bot id kept."""
    return TOKEN_PATTERN.sub(MASK, text)


class TokenRedactingFilter(logging.Filter):
    """Rewrites a record in place: message, arguments and traceback text are masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FILTER = TokenRedactingFilter()


def guard(logger: logging.Logger) -> logging.Logger:
    """Attach the redacting filter to a logger (once) and return it."""
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger


def get_logger(name: str) -> logging.Logger:
    """A logger of ours with the redacting filter attached (filters do not inherit to children)."""
    return guard(logging.getLogger(name))


def install() -> None:
    """Guard the library's and the framework's loggers."""
    for name in GUARDED_LOGGERS:
        guard(logging.getLogger(name))
