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

The request (a JSON body, or multipart with a file) is prepared by `requests` and written over an
`http.client` connection, so the pause can sit between the two writes. Each thread keeps one keep-alive
connection per Bot API host (against Telegram a new one costs a TLS handshake per message): it is reused when
the last answer was read to its end and the server did not ask to close, it has not sat idle longer than
IDLE_SECONDS, and the socket shows no end-of-file; any failure closes it and the next call connects anew. A
write that fails on a reused connection before `before_last_byte()` ran is made once more on a fresh one
(nothing of the request was acted on: it never got its last byte). The before-last-byte rule is the same on a
reused connection: the last byte goes only after the caller's commit.
"""
from __future__ import annotations

import http.client
import json
import select
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import requests
from telebot import apihelper, types
from telebot.apihelper import ApiTelegramException

#: A kept connection idle longer than this is closed rather than reused (servers drop idle ones after a while).
IDLE_SECONDS = 30.0
_kept = threading.local()


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
    connection, reused = _connection(prepared.url)
    try:
        try:
            _write(connection, prepared, body[:-1])
        except NotSent:
            if not reused:
                raise
            connection.close()  # the server had closed the kept connection: once more, on a new one
            connection, reused = _connection(prepared.url, fresh=True)
            _write(connection, prepared, body[:-1])
        try:
            before_last_byte()
        except Exception as exc:
            raise NotSent(f"abandoned before its last byte: {type(exc).__name__}: {exc}") from exc
        _write_last(connection, body[-1:])
        return _answer(method, connection)
    finally:
        if getattr(connection, "botfleet_keep", False):
            _keep(prepared.url, connection)
        else:
            connection.close()


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


def _connection(url: str, fresh: bool = False) -> tuple[http.client.HTTPConnection, bool]:
    """This thread's kept connection to the url's host if it is still good, else a new one; (connection, reused)."""
    kept = getattr(_kept, "connections", None)
    if kept is None:
        kept = _kept.connections = {}
    entry = kept.pop(_origin(url), None)
    if entry is not None:
        connection, idle_since = entry
        if not fresh and time.monotonic() - idle_since < IDLE_SECONDS and not _dropped(connection):
            connection.botfleet_keep = False  # until this call's answer is read to its end
            return connection, True
        connection.close()
    return _connect(url), False


def _keep(url: str, connection: http.client.HTTPConnection) -> None:
    kept = getattr(_kept, "connections", None)
    if kept is None:
        kept = _kept.connections = {}
    old = kept.pop(_origin(url), None)
    if old is not None and old[0] is not connection:
        old[0].close()
    kept[_origin(url)] = (connection, time.monotonic())


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """True when an idle kept connection is unusable: no socket, or readable (the server closed it, or sent junk)."""
    if connection.sock is None:
        return True
    try:
        readable, _, _ = select.select([connection.sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def close_kept() -> None:
    """Close this thread's kept connections (tests; a worker thread that ends)."""
    for connection, _ in (getattr(_kept, "connections", None) or {}).values():
        connection.close()
    _kept.connections = {}


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
    """Telegram's answer; the connection is marked to be kept when the answer was read to its end, no "close"."""
    connection.sock.settimeout(apihelper.READ_TIMEOUT)
    try:
        response = connection.getresponse()
        answer = json.loads(response.read() or b"null")
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise Unanswered(f"no answer from Telegram: {type(exc).__name__}") from exc
    connection.botfleet_keep = not response.will_close and response.isclosed()
    if connection.botfleet_keep:
        connection.sock.settimeout(apihelper.CONNECT_TIMEOUT)
    if isinstance(answer, dict) and answer.get("ok"):
        return types.Message.de_json(answer["result"])
    answer = answer if isinstance(answer, dict) else {}
    raise ApiTelegramException(method, response, {**answer, "error_code": answer.get("error_code", response.status),
                                                  "description": answer.get("description", response.reason)})
