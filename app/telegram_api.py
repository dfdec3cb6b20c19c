"""Process-wide pyTelegramBotAPI settings: where the Bot API lives, how its requests go, token-safe logs.

There is no retry sleep here: a 429 or a network error surfaces as an exception at once. A reply to
an update then moves to the outbox (bots/replies.py), an outbox delivery is rescheduled after
`retry_after` (bots/outbound.py); no thread ever waits for Telegram's rate limit.
"""
from __future__ import annotations

import json
import select
import socket
import ssl
import threading
from urllib.parse import urlencode, urlsplit

import httptools
import requests
import urllib3
from flask import Flask
from requests.structures import CaseInsensitiveDict
from requests.utils import DEFAULT_CA_BUNDLE_PATH, get_encoding_from_headers
from telebot import apihelper

from app import redaction

_local = threading.local()
#: What requests would look up in the environment on every call (HTTPS_PROXY / NO_PROXY, REQUESTS_CA_BUNDLE),
#: read once by configure() for the Bot API's address.
_environment: dict = {"proxies": {}, "verify": True}


def api_url(app: Flask) -> str:
    return app.config["TELEGRAM_API_URL"].rstrip("/") + "/bot{0}/{1}"


def configure(app: Flask) -> None:
    """Point the library at TELEGRAM_API_URL, send its calls with `send_request`, install the log redaction."""
    base = app.config["TELEGRAM_API_URL"].rstrip("/")
    apihelper.API_URL = api_url(app)
    apihelper.FILE_URL = base + "/file/bot{0}/{1}"
    settings = requests.Session().merge_environment_settings(base, {}, None, None, None)
    _environment.update(proxies=settings["proxies"], verify=settings["verify"])
    apihelper.CUSTOM_REQUEST_SENDER = send_request
    redaction.install()
    redaction.guard(app.logger)


def send_request(method: str, url: str, params=None, files=None, timeout=None, proxies=None) -> requests.Response:
    """One Bot API call, as pyTelegramBotAPI's CUSTOM_REQUEST_SENDER; a requests.Response, requests' exceptions.

    The common case skips requests' and urllib3's per-call work: a POST's parameters as a JSON body (Telegram
    reads JSON, form and query alike; `json.dumps` costs a fraction of percent-encoding a keyboard), a GET's in
    the query, over this thread's keep-alive connection (`_exchange`). An upload, a proxy, or parameters that
    are not plain JSON values go through a requests session as before.
    """
    proxies = proxies or _environment["proxies"]
    params = {name: value for name, value in (params or {}).items() if value is not None}  # as requests drops them
    if files or proxies:
        return _session().request(method, url, params=params, files=files, timeout=timeout, proxies=proxies,
                                  verify=_environment["verify"])
    if method == "post":
        if not all(type(value) in _PLAIN for value in params.values()):
            return _session().request(method, url, params=params, timeout=timeout, verify=_environment["verify"])
        body = json.dumps(params, ensure_ascii=False).encode()
    else:
        body = None
        if params:
            url = f"{url}?{urlencode(params, doseq=True)}"
    return _response(*_exchange(method.upper(), url, body, timeout), url)


def call(token: str, method: str, params: dict, timeout=None, *, result: bool = True):
    """Bot API `method` (e.g. "sendMessage") with `params` (JSON values) as a JSON body; the answer's `result`
    as JSON, not made into pyTelegramBotAPI's objects (getUpdates' raw updates, a reply whose answer nobody
    reads). Raises what pyTelegramBotAPI raises: ApiTelegramException when Telegram refuses, ApiHTTPException
    / ApiInvalidJSONException for an answer that is not its JSON, requests' exceptions for the network.

    :param timeout: (connect, read) seconds; pyTelegramBotAPI's defaults when None.
    :param result: False: None on success, and a success is HTTP 200 (the Bot API answers a failure with its
        error_code as the HTTP status), so the answer is not parsed.
    """
    url = apihelper.API_URL.format(token, method)
    timeout = timeout or (apihelper.CONNECT_TIMEOUT, apihelper.READ_TIMEOUT)
    proxies = apihelper.proxy or _environment["proxies"]
    if proxies:
        response = _session().post(url, json=params, timeout=timeout, proxies=proxies, verify=_environment["verify"])
        status, reason, content = response.status_code, response.reason, response.content
    else:
        response = None
        status, reason, headers, content = _exchange("POST", url, json.dumps(params, ensure_ascii=False).encode(),
                                                     timeout)
    if status == 200 and not result:
        return None
    try:
        answer = json.loads(content)
    except ValueError:
        answer = None
    if isinstance(answer, dict) and answer.get("ok") is True:
        return answer.get("result")
    if response is None:
        response = _response(status, reason, headers, content, url)
    if not isinstance(answer, dict):
        raise (apihelper.ApiHTTPException if status != 200 else apihelper.ApiInvalidJSONException)(method, response)
    raise apihelper.ApiTelegramException(method, response, {
        **answer, "error_code": answer.get("error_code", status), "description": answer.get("description", reason)})


_PLAIN = frozenset((str, int, float, bool, type(None)))
#: The most bytes read before an answer's headers have ended (status line and headers), and per recv().
_MAX_HEAD, _RECV = 65536, 65536


def _exchange(method: str, url: str, body: bytes | None, timeout) -> tuple[int, str, list, bytes]:
    """One request over this thread's keep-alive connection to the url's host: (status, reason, headers, body).

    Written here and read by llhttp (httptools) rather than by http.client, which builds a file object per
    answer and parses its headers with the email package: on a polling update that was a quarter of the Python
    of its getUpdates and its reply. A connection the server closed while idle is opened again before sending,
    as urllib3 does; nothing is sent twice. Network failures and malformed answers raise requests' exceptions.
    """
    scheme, host, path = _split(url)
    connect_timeout, read_timeout = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    connection = _connection(scheme, host, connect_timeout, url)
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: identity\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    try:
        connection.settimeout(read_timeout)
        connection.sendall(head.encode("latin-1") + b"\r\n" + (body or b""))
        answer = _read_answer(connection)
    except TimeoutError as exc:
        _drop(scheme, host)
        raise requests.ReadTimeout(_cause(exc, url)) from exc
    except (OSError, ValueError, httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
        _drop(scheme, host)
        raise requests.ConnectionError(_cause(exc, url)) from exc
    if answer.will_close:
        _drop(scheme, host)
    return answer.status, answer.reason.decode("latin-1"), answer.headers, b"".join(answer.body)


def _read_answer(connection: socket.socket) -> _Answer:
    """The answer to the request just sent, fed to llhttp as it arrives; ValueError when cut short."""
    answer = _Answer()
    parser = answer.parser = httptools.HttpResponseParser(answer)
    received = 0
    while not answer.complete:
        data = connection.recv(_RECV)
        if not data:
            answer.ended_by_close(received)
            break
        received += len(data)
        try:
            parser.feed_data(data)
        except httptools.HttpParserError:
            if not answer.complete:
                raise
            answer.will_close = True  # bytes after a whole answer (after its "close", say): it stands
        if not answer.head_done and received > _MAX_HEAD:
            raise ValueError(f"no end of the answer's headers in its first {received} bytes")
    return answer


class _Answer:
    """httptools' callbacks: one answer's status, reason, headers and body as llhttp frames them (Content-Length,
    chunked, none for 204/304; an interim 1xx answer skipped), and whether the connection may be kept."""

    __slots__ = ("parser", "status", "reason", "headers", "body", "head_done", "complete", "will_close")

    def __init__(self):
        self.parser = None
        self._begin()
        self.complete = self.will_close = False

    def _begin(self) -> None:
        self.status, self.reason, self.headers, self.body, self.head_done = 0, b"", [], [], False

    def on_message_begin(self) -> None:
        if self.complete:  # bytes after the answer: the connection is in no state to be reused
            self.will_close = True

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self.head_done, self.status = True, self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:  # an interim answer (100 Continue): the real one follows
            self._begin()
            return
        # llhttp clears the answer's flags once this returns: "Connection: close", HTTP/1.0, a close-ended body
        self.complete, self.will_close = True, self.will_close or not self.parser.should_keep_alive()

    def ended_by_close(self, received: int) -> None:
        """The connection closed before llhttp saw the answer's end. A whole answer only when the head was read
        and its body has neither Content-Length nor chunked framing: the body is what came before the close
        (llhttp_finish, llhttp's end-of-stream call that would say so, is not in httptools' API)."""
        if not received:
            raise ConnectionResetError("the server closed the connection without an answer")
        if not self.head_done or any(name.lower() == "content-length" or (
                name.lower() == "transfer-encoding" and "chunked" in value.lower()) for name, value in self.headers):
            raise ValueError("the answer was cut short by the connection's close")
        self.complete = self.will_close = True


def _split(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _connection(scheme: str, host: str, connect_timeout, url: str) -> socket.socket:
    """This thread's open connection to `host`, or a new one; one the server closed while idle is replaced.
    Nothing of an answer is left buffered between answers, so the socket is all a kept connection is."""
    connections = getattr(_local, "connections", None)
    if connections is None:
        connections = _local.connections = {}
    connection = connections.get((scheme, host))
    if connection is not None and connection_dropped(connection):
        connection.close()
        connection = None
    if connection is None:
        connection = connections[(scheme, host)] = _connect(scheme, host, connect_timeout, url)
    return connection


def _connect(scheme: str, host: str, connect_timeout, url: str) -> socket.socket:
    parts = urlsplit(url)
    port = parts.port or (443 if scheme == "https" else 80)
    try:
        sock = socket.create_connection((parts.hostname, port), timeout=connect_timeout)
    except TimeoutError as exc:
        raise requests.ConnectTimeout(_cause(exc, url)) from exc
    except OSError as exc:
        raise requests.ConnectionError(_cause(exc, url)) from exc
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if scheme != "https":
        return sock
    try:
        return _tls().wrap_socket(sock, server_hostname=parts.hostname)
    except TimeoutError as exc:
        sock.close()
        raise requests.ConnectTimeout(_cause(exc, url)) from exc
    except OSError as exc:
        sock.close()
        raise requests.ConnectionError(_cause(exc, url)) from exc


def connection_dropped(sock) -> bool:
    """True when an idle keep-alive connection is unusable: closed, or readable (the server's EOF or junk)."""
    if sock is None:
        return True
    try:
        poll = select.poll()
        poll.register(sock, select.POLLIN)
        return bool(poll.poll(0))
    except (OSError, ValueError):
        return True


def _drop(scheme: str, host: str) -> None:
    connection = getattr(_local, "connections", {}).pop((scheme, host), None)
    if connection is not None:
        connection.close()


def _tls() -> ssl.SSLContext:
    verify = _environment["verify"]
    if not verify:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=verify if isinstance(verify, str) else DEFAULT_CA_BUNDLE_PATH)


def _cause(exc: Exception, url: str) -> urllib3.exceptions.MaxRetryError:
    """What requests wraps (worded as requests words it, with the URL's path, token and all: the log filter of
    app/redaction masks it, as it always had to)."""
    return urllib3.exceptions.MaxRetryError(None, urlsplit(url).path, exc)


def _response(status: int, reason: str, headers: list, content: bytes, url: str) -> requests.Response:
    response = requests.Response()
    response.status_code, response.reason, response.url = status, reason, url
    response.headers = CaseInsensitiveDict(headers)
    response.encoding = get_encoding_from_headers(response.headers)
    response._content = content
    return response


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        session.trust_env = False  # configure() read the environment once
    return session
