"""Process-wide pyTelegramBotAPI settings: where the Bot API lives, 429 handling, token-safe logs."""
from __future__ import annotations

import time

from flask import Flask
from telebot import apihelper

from bots import redaction

log = redaction.get_logger(__name__)

#: How many times one call is repeated after a 429, and the longest wait we accept for one retry.
MAX_RATE_LIMIT_RETRIES = 5
MAX_RETRY_AFTER_SECONDS = 60


def configure(app: Flask) -> None:
    """Point the library at TELEGRAM_API_URL and install the 429-aware sender and log redaction."""
    base = app.config["TELEGRAM_API_URL"].rstrip("/")
    apihelper.API_URL = base + "/bot{0}/{1}"
    apihelper.FILE_URL = base + "/file/bot{0}/{1}"
    # The library's own hook for sending requests; it keeps the per-thread session it manages.
    apihelper.CUSTOM_REQUEST_SENDER = send_honouring_retry_after
    redaction.install()
    redaction.guard(app.logger)


def send_honouring_retry_after(method, url, **kwargs):
    """Send one Bot API request; on 429 wait `retry_after` seconds and send it again."""
    for attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
        response = apihelper._get_req_session().request(method, url, **kwargs)
        wait = retry_after(response)
        if wait is None or attempt == MAX_RATE_LIMIT_RETRIES or wait > MAX_RETRY_AFTER_SECONDS:
            return response
        log.info("Telegram asked to slow down; retrying in %s s", wait)
        _rewind_files(kwargs.get("files"))
        time.sleep(wait)
    return response


def retry_after(response) -> float | None:
    """Seconds Telegram asks us to wait, for a 429 answer; otherwise None."""
    if response.status_code != 429:
        return None
    try:
        return float(response.json()["parameters"]["retry_after"])
    except (ValueError, KeyError, TypeError):
        return 1.0


def _rewind_files(files) -> None:
    for value in (files or {}).values():
        stream = value[1] if isinstance(value, tuple) and len(value) > 1 else value
        if hasattr(stream, "seek"):
            stream.seek(0)
