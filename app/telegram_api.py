"""Process-wide pyTelegramBotAPI settings: where the Bot API lives, how its requests go, token-safe logs.

There is no retry sleep here: a 429 or a network error surfaces as an exception at once. A reply to
an update then moves to the outbox (bots/replies.py), an outbox delivery is rescheduled after
`retry_after` (bots/outbound.py); no thread ever waits for Telegram's rate limit.
"""
from __future__ import annotations

import http.client
import json
import select
import socket
import ssl
import threading
from urllib.parse import urlencode, urlsplit

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

    Every call of every update goes through here (the reply, getUpdates), so the common case skips requests'
    and urllib3's per-call work: one keep-alive http.client connection per thread and host, a POST's
    parameters as a JSON body (Telegram reads JSON, form and query alike; `json.dumps` costs a fraction of
    percent-encoding a keyboard), a GET's in the query. A connection the server closed while idle is opened
    again before sending, as urllib3 does; nothing is sent twice. An upload, a proxy, or parameters that are
    not plain JSON values go through a requests session as before.
    """
    proxies = proxies or _environment["proxies"]
    params = {name: value for name, value in (params or {}).items() if value is not None}  # as requests drops them
    if files or proxies:
        return _session().request(method, url, params=params, files=files, timeout=timeout, proxies=proxies,
                                  verify=_environment["verify"])
    if method == "post":
        if not all(type(value) in _PLAIN for value in params.values()):
            return _session().request(method, url, params=params, timeout=timeout, verify=_environment["verify"])
        body, headers = json.dumps(params, ensure_ascii=False).encode(), JSON
    else:
        body, headers = None, {}
        if params:
            url = f"{url}?{urlencode(params, doseq=True)}"
    scheme, host, path = _split(url)
    connect_timeout, read_timeout = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    connection = _connection(scheme, host, connect_timeout, url)
    try:
        connection.sock.settimeout(read_timeout)
        connection.request(method.upper(), path, body=body, headers=headers)
        answer = connection.getresponse()
        content = answer.read()
    except TimeoutError as exc:
        _drop(scheme, host)
        raise requests.ReadTimeout(_cause(exc, url)) from exc
    except (http.client.HTTPException, OSError) as exc:
        _drop(scheme, host)
        raise requests.ConnectionError(_cause(exc, url)) from exc
    if answer.will_close:
        _drop(scheme, host)
    return _response(answer, content, url)


_PLAIN = frozenset((str, int, float, bool, type(None)))
JSON = {"Content-Type": "application/json"}


def _split(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _connection(scheme: str, host: str, connect_timeout, url: str) -> http.client.HTTPConnection:
    """This thread's open connection to `host`, or a new one; one the server closed while idle is replaced."""
    connections = getattr(_local, "connections", None)
    if connections is None:
        connections = _local.connections = {}
    connection = connections.get((scheme, host))
    if connection is not None and _dropped(connection.sock):
        connection.close()
        connection = None
    if connection is None:
        if scheme == "https":
            connection = http.client.HTTPSConnection(host, timeout=connect_timeout, context=_tls())
        else:
            connection = http.client.HTTPConnection(host, timeout=connect_timeout)
        try:
            connection.connect()
        except TimeoutError as exc:
            raise requests.ConnectTimeout(_cause(exc, url)) from exc
        except OSError as exc:
            raise requests.ConnectionError(_cause(exc, url)) from exc
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connections[(scheme, host)] = connection
    return connection


def _dropped(sock) -> bool:
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


def _response(answer: http.client.HTTPResponse, content: bytes, url: str) -> requests.Response:
    response = requests.Response()
    response.status_code, response.reason, response.url = answer.status, answer.reason, url
    response.headers = CaseInsensitiveDict(answer.getheaders())
    response.encoding = get_encoding_from_headers(response.headers)
    response._content = content
    return response


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        session.trust_env = False  # configure() read the environment once
    return session
