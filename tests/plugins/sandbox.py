"""The shared sandbox plugin (registered in tests/conftest.py): a real Telegram sandbox and its one control
client (`Sandbox`), the app pointed at it, bot rows the sandbox knows, BotManagers stopped after each test,
the app served over HTTP, TeleBots talking to the sandbox, a local webhook receiver, and `wait_until`
(from tests/waiting.py: wait on an event, never a fixed sleep).

Every test package gets these fixtures without importing them. Two folders give `sandbox` and `make_bot`
another meaning, kept by their conftests as thin aliases of fixtures here: tests/emulator (`sandbox` is the
bare SandboxServer, `make_bot()` a TeleBot factory) and tests/conformance (`sandbox` is a client of a
sandbox allowing http:// webhooks, `webhook_receiver` one receiver rather than a factory).
"""
from __future__ import annotations

import base64
import itertools
import json
import socket
import threading
from contextlib import contextmanager

import pytest
import requests
import sqlalchemy as sa
import telebot
from sqlalchemy import event
from telebot import apihelper
from werkzeug import Request, Response
from werkzeug.serving import make_server

from app import telegram_api
from bots.emulator import SandboxServer
from bots.manager import BotManager
from tests.waiting import wait_until

TEST_HANDLERS = "tests.engine.handlers:register"
ENGINE_CONFIG = {"BOT_HANDLERS": TEST_HANDLERS, "BOT_POLL_TIMEOUT": 1, "BOT_SYNC_INTERVAL": 0.2,
                 "BOT_MAX_BACKOFF": 1.0, "BOT_WORKERS": 4, "BOT_MODE": "polling"}
#: A valid 2x3 PNG, so image dimensions can be checked (Telegram keeps a single size of so small a picture).
PNG_2X3 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAIAAAA2iEnWAAAAC0lEQVR4nGNgwAIAABUAAapll8QAAAAASUVORK5CYII=")
#: The user the conformance tests write as.
USER_ID = 424_242
#: Chats the emulator tests write to although no user wrote from them: registered for every bot by the
#: `control` fixture, since the sandbox answers 400 "chat not found" otherwise, as Telegram does.
OPEN_CHATS = (1, 5, 7, 8, 9, 10, 11, 12, 13, 42, 501, 907, -1001234)
_bot_ids = itertools.count(700_000_001)


def closed_port_url():
    """An http:// URL on which nothing listens (a port bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def run_webhook_answer(sandbox_url, token, response, http=requests):
    """Make the Bot API method a webhook answered with (a JSON body {"method": ..., params}) in the sandbox at
    `sandbox_url`, as Telegram does with a 2xx answer; the sandbox's answer, or None when there was no method.
    Like Telegram, nobody is told when the call fails (e.g. a callback query id the sandbox never issued)."""
    if not 200 <= response.status_code < 300 or "json" not in (response.headers.get("Content-Type") or ""):
        return None
    body = response.get_json() if hasattr(response, "get_json") else response.json()
    if not isinstance(body, dict) or not isinstance(body.get("method"), str):
        return None
    params = {name: value for name, value in body.items() if name != "method"}
    return http.post(f"{sandbox_url}/bot{token}/{body['method']}", json=params, timeout=10)


class Sandbox:
    """The control API of a running sandbox (`server` is the SandboxServer when the fixture started one).

    get/post answer the JSON and fail the test on an error status; `request` answers the raw response.
    """

    def __init__(self, url, server=None):
        self.url = url
        self.server = server
        self.http = requests.Session()

    def request(self, method, path, **kwargs):
        return self.http.request(method, self.url + path, timeout=10, **kwargs)

    def _post_json(self, path, body=None):
        response = self.request("POST", path, json=body)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def _get_json(self, path, **params):
        response = self.request("GET", path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    post, get = _post_json, _get_json

    def update(self, tg_bot_id, sender, **content):
        """A user (the `from` object `sender`) sends the bot an update; answers the control answer."""
        return self._post_json("/sandbox/updates", {"bot_id": tg_bot_id, "from": sender, **content})

    def say(self, tg_bot_id, user_id, text=None, language_code="en", **content):
        if text is not None:
            content["text"] = text
        return self.update(tg_bot_id, {"id": user_id, "first_name": "Tester", "language_code": language_code},
                           **content)

    def user_says(self, bot_id, user_id, text, **extra):
        """Send a user's ("Sara") text message to a bot and return the control answer."""
        return self.update(bot_id, {"id": user_id, "first_name": "Sara"}, text=text, **extra)

    def user_writes(self, bot_id, text, user_id=USER_ID):
        """A user writes to the bot (so the bot may answer them) and returns the control answer."""
        return self.update(bot_id, {"id": user_id, "first_name": "Sara", "username": "sara", "language_code": "en"},
                           text=text)

    def user_taps(self, bot_id, message_id, data, user_id=USER_ID):
        """The user taps an inline button of a bot message."""
        return self.update(bot_id, {"id": user_id, "first_name": "Sara"},
                           callback={"message_id": message_id, "data": data})

    def new_bot(self):
        """Register a fresh bot and return (token, bot_id)."""
        bot_id = next(_bot_ids)
        token = f"{bot_id}:AAE-conformance_{bot_id}"
        self._post_json("/sandbox/bots", {"token": token, "username": f"conf{bot_id}_bot",
                                          "first_name": "Conformance"})
        return token, bot_id

    def open_chat(self, chat_id, tg_bot_id=None):
        """Let a bot (every bot without tg_bot_id) write to a chat that never wrote to it.

        The sandbox answers 400 "chat not found" otherwise, as Telegram does; tests that post
        updates to a bot's webhook themselves must tell the sandbox the user exists.
        """
        body = {"chat_id": chat_id, **({"bot_id": tg_bot_id} if tg_bot_id else {})}
        return self._post_json("/sandbox/chats", body)

    def open_chats(self, chat_ids=OPEN_CHATS):
        """Let every bot write to these chats."""
        for chat_id in chat_ids:
            self.open_chat(chat_id)

    def messages(self, bot_id, chat_id=USER_ID):
        """The chat log of one chat."""
        return self._get_json(f"/sandbox/chats/{chat_id}/messages", bot_id=bot_id)["messages"]

    def bot_texts(self, tg_bot_id, chat_id):
        """What the bot has written in a chat, in order ([] while the sandbox has not seen the bot)."""
        response = self.request("GET", f"/sandbox/chats/{chat_id}/messages", params={"bot_id": tg_bot_id})
        if response.status_code == 404:
            return []
        return [m["text"] or m["caption"] for m in response.json()["messages"] if m["from_bot"]]

    def calls(self, tg_bot_id, method=None):
        """The bot's logged Bot API calls, optionally of one method."""
        calls = self._get_json("/sandbox/calls", bot_id=tg_bot_id)["calls"]
        return [c for c in calls if method is None or c["method"].lower() == method.lower()]

    def callback_answers(self, bot_id):
        return self._get_json("/sandbox/callback-answers", bot_id=bot_id)["answers"]

    def raw(self, method, token, **params):
        """Call a Bot API method with plain HTTP (JSON body); return the response."""
        return self.request("POST", f"/bot{token}/{method}", json=params)

    def answer_webhook(self, token, response):
        """Do what Telegram does with a webhook's 2xx answer: make the Bot API method in its body, if any.

        Tests that POST updates to /tg/<id> themselves stand for Telegram, so they call this with the response.
        """
        return run_webhook_answer(self.url, token, response, self.http)

    def wait_for_reply(self, tg_bot_id, chat_id, predicate=lambda text: True, timeout=10.0):
        return wait_until(lambda: [t for t in self.bot_texts(tg_bot_id, chat_id) if t and predicate(t)],
                          timeout, message=f"a reply from bot {tg_bot_id} in chat {chat_id}")

    def close(self):
        self.http.close()


class Control(Sandbox):
    """The emulator tests' client: get/post answer the raw response (those tests check statuses)."""

    def get(self, path, **params):
        return self.request("GET", path, params=params)

    def post(self, path, body=None, **kwargs):
        return self.request("POST", path, json=body, **kwargs)


class WebhookReceiver:
    """A local webhook endpoint. It answers 500 to the first `failures` deliveries, then 200 with `reply`
    (a JSON webhook reply, once) or an empty body; `attempts` holds every update, `delivered` (alias
    `deliveries`) the accepted (update, secret header) pairs."""

    def __init__(self, failures=0):
        self.failures = failures
        self.attempts = []
        self.delivered = []
        self.reply = None
        self.arrived = threading.Condition()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def url(self):
        """The URL to give setWebhook."""
        return f"http://127.0.0.1:{self._server.server_port}/hook"

    @property
    def deliveries(self):
        return self.delivered

    def _app(self, environ, start_response):
        request = Request(environ)
        with self.arrived:
            self.attempts.append(request.get_json())
            failing = len(self.attempts) <= self.failures
            reply = None
            if not failing:
                self.delivered.append((request.get_json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
                reply, self.reply = self.reply, None
            self.arrived.notify_all()
        if failing:
            return Response("fail", status=500)(environ, start_response)
        return Response(json.dumps(reply) if reply else "", content_type="application/json")(environ, start_response)

    def wait_for(self, predicate, timeout=10):
        """Wait until predicate(self) holds; return whether it did."""
        with self.arrived:
            return self.arrived.wait_for(lambda: predicate(self), timeout)

    def wait_for_deliveries(self, count, timeout=10):
        """The accepted deliveries once there are `count` of them (fail after timeout)."""
        assert self.wait_for(lambda r: len(r.delivered) >= count, timeout), self.delivered
        with self.arrived:
            return list(self.delivered)

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def sandbox_server():
    server = SandboxServer(host="127.0.0.1", port=0).start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server):
    client = Sandbox(sandbox_server.url, sandbox_server)
    yield client
    client.close()


@pytest.fixture
def start_sandbox():
    """start_sandbox(**server_options) -> a Sandbox client of a newly started SandboxServer (options such as
    allow_http_webhooks or retry_policy); all stopped after the test."""
    clients = []

    def start(**options):
        server = SandboxServer(host="127.0.0.1", port=0, **options).start()
        clients.append(Sandbox(server.url, server))
        return clients[-1]
    yield start
    for client in clients:
        client.close()
        client.server.stop()


@pytest.fixture
def control(sandbox_server):
    """The raw control client (`Control`) of the test's sandbox, with OPEN_CHATS registered."""
    client = Control(sandbox_server.url, sandbox_server)
    client.open_chats()
    yield client
    client.close()


@pytest.fixture(name="telegram_api")
def telebot_at_sandbox(sandbox_server):
    """Point pyTelegramBotAPI at the sandbox, restoring its URLs afterwards."""
    saved = apihelper.API_URL, apihelper.FILE_URL
    apihelper.API_URL = sandbox_server.url + "/bot{0}/{1}"
    apihelper.FILE_URL = sandbox_server.url + "/file/bot{0}/{1}"
    yield sandbox_server.url
    apihelper.API_URL, apihelper.FILE_URL = saved


@pytest.fixture
def new_token():
    """A factory of fresh, well-formed bot tokens."""
    return lambda: f"{next(_bot_ids)}:AAH-sandbox_secret"


@pytest.fixture
def make_telebot(telegram_api, control, new_token):
    """make_telebot(token=None) -> (TeleBot, bot_id) of a bot the sandbox knows (tests/emulator's make_bot)."""
    def make(token=None):
        token = token or new_token()
        assert control.post("/sandbox/bots", {"token": token}).status_code == 201
        return telebot.TeleBot(token, threaded=False), int(token.split(":")[0])
    return make


@pytest.fixture
def start_webhook_receiver():
    """start_webhook_receiver(failures=0) -> a started WebhookReceiver; all stopped after the test."""
    receivers = []

    def start(failures=0):
        receivers.append(WebhookReceiver(failures))
        return receivers[-1]
    yield start
    for receiver in receivers:
        receiver.stop()


@pytest.fixture
def png_bytes():
    """The bytes of a small (2x3) PNG image."""
    return PNG_2X3


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
