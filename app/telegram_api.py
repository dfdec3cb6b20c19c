"""Process-wide pyTelegramBotAPI settings: where the Bot API lives, how its requests go, token-safe logs.

There is no retry sleep here: a 429 or a network error surfaces as an exception at once. A reply to
an update then moves to the outbox (bots/replies.py), an outbox delivery is rescheduled after
`retry_after` (bots/outbound.py); no thread ever waits for Telegram's rate limit.
"""
from __future__ import annotations

import threading
from urllib.parse import urlsplit

import requests
import urllib3
from flask import Flask
from requests.models import RequestEncodingMixin
from requests.structures import CaseInsensitiveDict
from requests.utils import DEFAULT_CA_BUNDLE_PATH, get_encoding_from_headers
from telebot import apihelper

from app import redaction

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
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

    Every call of every update goes through here (the reply, getUpdates), so the common case skips most of
    requests' per-call work (preparing the request, merging settings, looking up proxies in the environment):
    urllib3 with a keep-alive pool per thread, as requests would use, and a POST's parameters form-encoded
    in the body rather than percent-encoded into the URL (Telegram reads both). An upload, or a proxy, goes
    through a requests session as before.
    """
    proxies = proxies or _environment["proxies"]
    if files or proxies:
        return _session().request(method, url, params=params, files=files, timeout=timeout, proxies=proxies,
                                  verify=_environment["verify"])
    encoded = RequestEncodingMixin._encode_params(params or {})
    try:
        if method == "post":
            answer = _pool().request("POST", url, body=encoded, headers=FORM, timeout=_timeout(timeout),
                                     retries=False, redirect=False)
        else:
            answer = _pool().request("GET", f"{url}?{encoded}" if encoded else url, timeout=_timeout(timeout),
                                     retries=False, redirect=False)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise _failure(exc, url) from exc
    return _response(answer, url)


def _failure(exc: Exception, url: str) -> requests.RequestException:
    """The exception requests raises for `exc`, worded as requests words it (with the URL's path, token and all:
    the log filter of app/redaction masks it, as it always had to)."""
    cause = urllib3.exceptions.MaxRetryError(None, urlsplit(url).path, exc)
    if isinstance(exc, urllib3.exceptions.NewConnectionError):  # first: it is also a ConnectTimeoutError
        return requests.ConnectionError(cause)
    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
        return requests.ConnectTimeout(cause)
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        return requests.ReadTimeout(cause)
    return requests.ConnectionError(cause)


def _timeout(timeout) -> urllib3.Timeout:
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    return urllib3.Timeout(connect=connect, read=read)


def _response(answer: urllib3.BaseHTTPResponse, url: str) -> requests.Response:
    response = requests.Response()
    response.status_code, response.reason, response.url = answer.status, answer.reason, url
    response.headers = CaseInsensitiveDict(answer.headers)
    response.encoding = get_encoding_from_headers(response.headers)
    response._content = answer.data
    return response


def _pool() -> urllib3.PoolManager:
    pool = getattr(_local, "pool", None)
    if pool is None:
        verify = _environment["verify"]
        pool = _local.pool = urllib3.PoolManager(
            num_pools=4, maxsize=1, cert_reqs="CERT_REQUIRED" if verify else "CERT_NONE",
            ca_certs=verify if isinstance(verify, str) else DEFAULT_CA_BUNDLE_PATH)
    return pool


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        session.trust_env = False  # configure() read the environment once
    return session
