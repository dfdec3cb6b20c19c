"""Bot API calls whose requests are completed only after the caller has committed that they are being made.

Telegram has no idempotency key, so whether a message was sent is known for sure only from its answer. A
worker killed between the call and recording the answer leaves a row that says "sending" and no answer. To
make that state mean "Telegram has it", the request is written in two parts: everything but its last byte
(the server waits for the rest; a request cut short is never acted on), then `before_last_bytes()` (the caller
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
`http.client` connection, so the pause can sit between the two writes. `call_many` makes one bot's several
requests side by side, one connection each, with one `before_last_bytes()` for all (one commit for the group).
Each thread keeps its idle keep-alive connections per Bot API host, up to MAX_KEPT (against Telegram a new one
costs a TLS handshake per message): one is reused when
the last answer was read to its end and the server did not ask to close, it has not sat idle longer than
IDLE_SECONDS, and the socket shows no end-of-file; any failure closes it and the next call connects anew. A
write that fails on a reused connection before `before_last_bytes()` ran is made once more on a fresh one
(nothing of the request was acted on: it never got its last byte). The before-last-byte rule is the same on a
reused connection: the last byte goes only after the caller's commit.
"""
from __future__ import annotations

import http.client
import json
import logging
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import requests
from telebot import apihelper, types
from telebot.apihelper import ApiTelegramException

from app import telegram_api

#: A kept connection idle longer than this is closed rather than reused (servers drop idle ones after a while).
IDLE_SECONDS = 30.0
#: Idle connections a thread keeps per Bot API host (`call_many` uses one per request of a group).
MAX_KEPT = 16
_kept = threading.local()
log = logging.getLogger(__name__)


class NotSent(ConnectionError):
    """The request was never completed (no connection, or it broke before the last byte): Telegram did not
    get the message, so sending it again sends it once."""


class Unanswered(ConnectionError):
    """The whole request was written but no answer came (timeout, dropped connection): Telegram may have it."""


def call_many(token: str, calls: list[tuple[str, dict, dict | None]], *,
              before_last_bytes: Callable[[list[int]], set[int]],
              after_last_bytes: Callable[[], None] | None = None, answered_at: dict[int, float] | None = None) -> list:
    """Make Bot API calls (method, params, files) of one bot side by side, each on a connection of its own: every
    request but its last byte is written, then `before_last_bytes(indices)` runs once for those written (the
    caller commits them as being made, in one transaction) and answers the indices to finish; their last bytes
    follow, then `after_last_bytes()` (the caller's rate limiter stamps them: Telegram counts them from about now;
    it runs whether or not any was finished), then their answers are read. Per call, in order: the sent Message, or the exception it met:
    ApiTelegramException (Telegram refused it), Unanswered (whole, no answer), NotSent (not written, left out by
    the caller, or all of them when `before_last_bytes` raised: abandoned unfinished). `answered_at`, if given, gets the
    time.monotonic() each sent Message's answer was read, by index (the caller's rate limiter sees a late count).

    One commit for the group instead of one per request, and the server works on the requests side by side.
    """
    outcomes: list = [None] * len(calls)
    open_: dict[int, tuple] = {}
    try:
        for i, (method, params, files) in enumerate(calls):
            try:
                open_[i] = _begin(token, method, params, files)
            except NotSent as exc:
                outcomes[i] = exc
        try:
            finish = set(before_last_bytes(sorted(open_))) if open_ else set()
        except Exception as exc:
            finish = set()
            for i in open_:
                outcomes[i] = NotSent(f"abandoned before its last byte: {type(exc).__name__}: {exc}")
                outcomes[i].__cause__ = exc
        for i in open_:
            if i not in finish and outcomes[i] is None:
                outcomes[i] = NotSent("abandoned before its last byte: the caller left it out")
        for i in sorted(finish & set(open_)):
            try:
                _write_last(open_[i][1], open_[i][3][-1:])
            except NotSent as exc:
                outcomes[i] = exc
        if after_last_bytes is not None:
            try:
                after_last_bytes()
            except Exception:  # noqa: BLE001 - the requests are made: their answers must still be read
                log.warning("after the last bytes", exc_info=True)
        for i in sorted(finish & set(open_)):
            if outcomes[i] is None:
                try:
                    outcomes[i] = _answer(calls[i][0], open_[i][1])
                except Exception as exc:  # noqa: BLE001 - this request's outcome only
                    outcomes[i] = exc
                else:
                    if answered_at is not None:
                        answered_at[i] = time.monotonic()
    finally:
        for prepared, connection, _, _ in open_.values():
            _done_with(prepared.url, connection)
    return outcomes


def _begin(token: str, method: str, params: dict, files: dict | None):
    """Prepare a request and write all of it but its last byte: (prepared, connection, reused, body)."""
    prepared = _prepare(token, method, params, files)
    body = prepared.body if isinstance(prepared.body, bytes) else (prepared.body or "").encode()
    connection, reused = _connection(prepared.url)
    try:
        _write(connection, prepared, body[:-1])
    except NotSent:
        connection.close()
        if not reused:
            raise
        connection, reused = _connection(prepared.url, fresh=True)  # the server had closed the kept connection
        try:
            _write(connection, prepared, body[:-1])
        except NotSent:
            connection.close()
            raise
    return prepared, connection, reused, body


def _prepare(token: str, method: str, params: dict, files: dict | None) -> requests.PreparedRequest:
    url = apihelper.API_URL.format(token, method)
    if files:  # multipart, objects as JSON text (as pyTelegramBotAPI sends them)
        form = {name: json.dumps(value) if isinstance(value, dict | list) else value for name, value in params.items()}
        return requests.Request("POST", url, data=form, files=files).prepare()
    return requests.Request("POST", url, json=params).prepare()  # JSON: a body cut short is never a valid request


def _done_with(url: str, connection: http.client.HTTPConnection) -> None:
    if getattr(connection, "botfleet_keep", False):
        _keep(url, connection)
    else:
        connection.close()


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


def _connection(url: str, fresh: bool = False) -> tuple[http.client.HTTPConnection, bool]:
    """This thread's kept connection to the url's host if it is still good, else a new one; (connection, reused)."""
    idle = _kept_for(url)
    while idle and not fresh:
        connection, idle_since = idle.pop()
        if time.monotonic() - idle_since < IDLE_SECONDS and not telegram_api.connection_dropped(connection.sock):
            connection.botfleet_keep = False  # until this call's answer is read to its end
            return connection, True
        connection.close()
    return _connect(url), False


def _kept_for(url: str) -> list:
    """This thread's idle kept connections to the url's host, most recently used last."""
    kept = getattr(_kept, "connections", None)
    if kept is None:
        kept = _kept.connections = {}
    return kept.setdefault(_origin(url), [])


def _keep(url: str, connection: http.client.HTTPConnection) -> None:
    idle = _kept_for(url)
    idle.append((connection, time.monotonic()))
    while len(idle) > MAX_KEPT:
        idle.pop(0)[0].close()


def close_kept() -> None:
    """Close this thread's kept connections (tests; a worker thread that ends)."""
    for idle in (getattr(_kept, "connections", None) or {}).values():
        for connection, _ in idle:
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
