"""A Bot API call whose request is completed only after the caller has committed that it is being made.

Telegram has no idempotency key, so whether a message was sent is known for sure only from its answer. A
worker killed between the call and recording the answer leaves a row that says "sending" and no answer. To
make that state mean "Telegram has it", the request is written in two parts: everything but its last byte
(the server waits for the rest; a request cut short is never acted on), then `before_last_byte()` (the caller
commits "sending"), then the last byte. So:
- killed before the commit: the server got an incomplete request and drops it; the row is not "sending", the
  message goes again, once;
- killed after the last byte: the server got a whole request and sends the message; the row says "sending",
  which is read as sent, and nothing goes again;
- the one window left runs from the moment the database has the COMMIT (it commits even if the worker dies
  then) to the write of the last byte: the commit's answer (with synchronous_commit, the WAL flush too) and
  this thread getting the CPU back. A worker killed exactly then leaves "sending" for a message Telegram
  never completed: that message is lost, never doubled.

Proxies from the environment (HTTPS_PROXY) are not used: TELEGRAM_API_URL must reach the Bot API directly.

The request (a JSON body, or multipart with a file) is prepared by `requests` and written over one
`http.client` connection, so the pause can sit between the two writes.
"""
from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from urllib.parse import urlsplit

import requests
from telebot import apihelper, types
from telebot.apihelper import ApiTelegramException


class NotSent(ConnectionError):
    """The request was never completed (no connection, or it broke before the last byte): Telegram did not
    get the message, so sending it again sends it once."""


class Unanswered(ConnectionError):
    """The whole request was written but no answer came (timeout, dropped connection): Telegram may have it."""


def call(token: str, method: str, params: dict, files: dict | None = None, *,
         before_last_byte: Callable[[], None]) -> types.Message:
    """Make Bot API `method` (e.g. "sendMessage"); the sent Message, or ApiTelegramException / NotSent / Unanswered.

    :param before_last_byte: runs when all of the request but its last byte is with the server; if it raises,
        the request is abandoned unfinished (NotSent).
    """
    url = apihelper.API_URL.format(token, method)
    if files:  # multipart, objects as JSON text (as pyTelegramBotAPI sends them)
        form = {name: json.dumps(value) if isinstance(value, dict | list) else value for name, value in params.items()}
        prepared = requests.Request("POST", url, data=form, files=files).prepare()
    else:  # JSON: a body cut short is never a valid request
        prepared = requests.Request("POST", url, json=params).prepare()
    body = prepared.body if isinstance(prepared.body, bytes) else (prepared.body or "").encode()
    connection = _connect(prepared.url)
    try:
        _write(connection, prepared, body[:-1])
        try:
            before_last_byte()
        except Exception as exc:
            raise NotSent(f"abandoned before its last byte: {type(exc).__name__}: {exc}") from exc
        _write_last(connection, body[-1:])
        return _answer(method, connection)
    finally:
        connection.close()


def _connect(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname, parts.port, timeout=apihelper.CONNECT_TIMEOUT)
    try:
        connection.connect()
    except OSError as exc:
        raise NotSent(f"Telegram unreachable: {type(exc).__name__}") from exc
    return connection


def _write(connection: http.client.HTTPConnection, prepared: requests.PreparedRequest, head: bytes) -> None:
    parts = urlsplit(prepared.url)
    try:
        connection.putrequest("POST", parts.path + (f"?{parts.query}" if parts.query else ""),
                              skip_accept_encoding=True)
        for name, value in prepared.headers.items():
            connection.putheader(name, value)
        connection.endheaders(head)
    except OSError as exc:
        raise NotSent(f"the request broke off: {type(exc).__name__}") from exc


def _write_last(connection: http.client.HTTPConnection, last: bytes) -> None:
    try:
        connection.send(last)
    except OSError as exc:
        raise NotSent(f"the request broke off before its end: {type(exc).__name__}") from exc


def _answer(method: str, connection: http.client.HTTPConnection) -> types.Message:
    connection.sock.settimeout(apihelper.READ_TIMEOUT)
    try:
        response = connection.getresponse()
        answer = json.loads(response.read() or b"null")
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise Unanswered(f"no answer from Telegram: {type(exc).__name__}") from exc
    if isinstance(answer, dict) and answer.get("ok"):
        return types.Message.de_json(answer["result"])
    answer = answer if isinstance(answer, dict) else {}
    raise ApiTelegramException(method, response, {**answer, "error_code": answer.get("error_code", response.status),
                                                  "description": answer.get("description", response.reason)})
