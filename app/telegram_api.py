"""Process-wide pyTelegramBotAPI settings: where the Bot API lives and token-safe logs.

There is no retry sleep here: a 429 or a network error surfaces as an exception at once. A reply to
an update then moves to the outbox (bots/replies.py), an outbox delivery is rescheduled after
`retry_after` (bots/outbound.py); no thread ever waits for Telegram's rate limit.
"""
from __future__ import annotations

from flask import Flask
from telebot import apihelper

from app import redaction


def api_url(app: Flask) -> str:
    return app.config["TELEGRAM_API_URL"].rstrip("/") + "/bot{0}/{1}"


def configure(app: Flask) -> None:
    """Point the library at TELEGRAM_API_URL and install the log redaction."""
    base = app.config["TELEGRAM_API_URL"].rstrip("/")
    apihelper.API_URL = api_url(app)
    apihelper.FILE_URL = base + "/file/bot{0}/{1}"
    apihelper.CUSTOM_REQUEST_SENDER = None
    redaction.install()
    redaction.guard(app.logger)
