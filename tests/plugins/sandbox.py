"""The shared sandbox plugin (registered in tests/conftest.py): a real Telegram sandbox and its control client,
the app pointed at it, bot rows the sandbox knows, BotManagers stopped after each test, the app served over
HTTP, and `wait_until` (wait on an event, never a fixed sleep).

Every test package gets these fixtures without importing them; tests/emulator and tests/conformance keep
their own `sandbox` (a sandbox with no app behind it), which overrides this one in their folders.
"""
from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

import pytest
import requests
import sqlalchemy as sa
from sqlalchemy import event
from telebot import apihelper
from werkzeug.serving import make_server

from bots import telegram_api
from bots.emulator import SandboxServer
from bots.manager import BotManager

TEST_HANDLERS = "tests.engine.handlers:register"
ENGINE_CONFIG = {"BOT_HANDLERS": TEST_HANDLERS, "BOT_POLL_TIMEOUT": 1, "BOT_SYNC_INTERVAL": 0.2,
                 "BOT_MAX_BACKOFF": 1.0, "BOT_WORKERS": 4, "BOT_MODE": "polling"}


def wait_until(predicate, timeout=10.0, interval=0.05, message="condition"):
    """Poll predicate until it returns something truthy; return that, or fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


def closed_port_url():
    """An http:// URL on which nothing listens (a port bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


class Sandbox:
    """The control API of a running sandbox."""

    def __init__(self, url):
        self.url = url
        self.http = requests.Session()

    def post(self, path, body=None):
        response = self.http.post(self.url + path, json=body, timeout=10)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def get(self, path, **params):
        response = self.http.get(self.url + path, params=params, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def say(self, tg_bot_id, user_id, text=None, language_code="en", **content):
        body = {"bot_id": tg_bot_id, "from": {"id": user_id, "first_name": "Tester",
                                               "language_code": language_code}, **content}
        if text is not None:
            body["text"] = text
        return self.post("/sandbox/updates", body)

    def open_chat(self, chat_id, tg_bot_id=None):
        """Let a bot (every bot without tg_bot_id) write to a chat that never wrote to it.

        The sandbox answers 400 "chat not found" otherwise, as Telegram does; tests that post
        updates to a bot's webhook themselves must tell the sandbox the user exists.
        """
        body = {"chat_id": chat_id, **({"bot_id": tg_bot_id} if tg_bot_id else {})}
        return self.post("/sandbox/chats", body)

    def bot_texts(self, tg_bot_id, chat_id):
        """What the bot has written in a chat, in order ([] while the sandbox has not seen the bot)."""
        response = self.http.get(f"{self.url}/sandbox/chats/{chat_id}/messages",
                                 params={"bot_id": tg_bot_id}, timeout=10)
        if response.status_code == 404:
            return []
        return [m["text"] or m["caption"] for m in response.json()["messages"] if m["from_bot"]]

    def calls(self, tg_bot_id, method=None):
        calls = self.get("/sandbox/calls", bot_id=tg_bot_id)["calls"]
        return [c for c in calls if method is None or c["method"].lower() == method.lower()]

    def wait_for_reply(self, tg_bot_id, chat_id, predicate=lambda text: True, timeout=10.0):
        return wait_until(lambda: [t for t in self.bot_texts(tg_bot_id, chat_id) if t and predicate(t)],
                          timeout, message=f"a reply from bot {tg_bot_id} in chat {chat_id}")


@pytest.fixture
def sandbox_server():
    server = SandboxServer(host="127.0.0.1", port=0).start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server):
    client = Sandbox(sandbox_server.url)
    yield client
    client.http.close()


@pytest.fixture
def make_bot(make, sandbox):
    """make_bot(tenant) -> a Bot row whose token the sandbox knows."""
    from app.services.bots import bot_token

    def create(tenant, **fields):
        bot = make.bot(tenant, **fields)
        sandbox.post("/sandbox/bots", {"token": bot_token(bot)})
        return bot
    return create


@contextmanager
def engine_pointed_at(app, sandbox_url):
    """The session app pointed at a sandbox, with the stand-in handlers; everything restored afterwards."""
    saved_config = {key: app.config.get(key) for key in (*ENGINE_CONFIG, "TELEGRAM_API_URL", "PUBLIC_BASE_URL",
                                                         "BOT_ALLOWED_UPDATES")}
    saved_api = apihelper.API_URL, apihelper.FILE_URL, apihelper.CUSTOM_REQUEST_SENDER
    app.config.update(ENGINE_CONFIG, TELEGRAM_API_URL=sandbox_url)
    telegram_api.configure(app)
    try:
        yield app
    finally:
        app.config.update(saved_config)
        if saved_config["BOT_ALLOWED_UPDATES"] is None:
            app.config.pop("BOT_ALLOWED_UPDATES")
        apihelper.API_URL, apihelper.FILE_URL, apihelper.CUSTOM_REQUEST_SENDER = saved_api
        app.extensions.pop("botfleet_telebots", None)


@pytest.fixture
def bot_app(app, sandbox_server):
    with engine_pointed_at(app, sandbox_server.url):
        yield app


@pytest.fixture
def start_manager(bot_app, db):
    """start_manager(**config) -> a started BotManager, with the outbox pool beside it as in the runtime;
    every one is stopped after the test."""
    from app.worker.pool import Pool

    managers, pools = [], []

    def start(**config):
        bot_app.config.update(config)
        if not pools:
            pools.append(Pool(bot_app, size=2).start())
        managers.append(BotManager(bot_app).start())
        return managers[-1]
    yield start
    for manager in managers:
        manager.stop(join_seconds=5)
    for pool in pools:
        pool.stop()


@pytest.fixture
def live_app(bot_app, db):
    """The app served over real HTTP on an ephemeral port (for webhooks); PUBLIC_BASE_URL points at it."""
    server = make_server("127.0.0.1", 0, bot_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    bot_app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield bot_app
    server.shutdown()
    server.server_close()


@contextmanager
def failing_statements(engine, matches, times=1):
    """Make the next `times` SQL statements for which matches(statement, parameters) is true fail
    as if the database connection had dropped."""
    remaining = [times]

    def before(conn, cursor, statement, parameters, context, executemany):
        if remaining[0] > 0 and matches(statement, parameters):
            remaining[0] -= 1
            raise sa.exc.OperationalError(statement, parameters,
                                          Exception("injected: server closed the connection unexpectedly"))
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield remaining
    finally:
        event.remove(engine, "before_cursor_execute", before)
