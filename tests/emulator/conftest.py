"""Fixtures for the sandbox tests: a real sandbox server, a control client and TeleBots."""

import base64
import itertools
import threading

import pytest
import requests
import telebot
from telebot import apihelper
from werkzeug import Request, Response
from werkzeug.serving import make_server

from bots.emulator import SandboxServer

#: A valid 2x3 PNG, so image dimensions can be checked.
PNG_2X3 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAIAAAA2iEnWAAAAC0lEQVR4nGNgwAIAABUAAapll8QAAAAASUVORK5CYII=")

_bot_ids = itertools.count(700_000_001)
#: Chats these tests write to although no user wrote from them: registered for every bot, since
#: the sandbox answers 400 "chat not found" otherwise, as Telegram does.
OPEN_CHATS = (1, 5, 7, 8, 9, 10, 11, 12, 13, 42, 501, 907, -1001234)


@pytest.fixture
def sandbox():
    """A sandbox served on an ephemeral port for one test."""
    server = SandboxServer(host="127.0.0.1", port=0).start()
    yield server
    server.stop()


class Control:
    """A tiny client for the /sandbox control API."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.session = requests.Session()

    def get(self, path, **params):
        """GET a control path and return the response."""
        return self.session.get(self.base_url + path, params=params, timeout=10)

    def post(self, path, body=None, **kwargs):
        """POST JSON to a control path and return the response."""
        return self.session.post(self.base_url + path, json=body, timeout=10, **kwargs)

    def open_chats(self, chat_ids=OPEN_CHATS):
        """Let every bot write to these chats (POST /sandbox/chats)."""
        for chat_id in chat_ids:
            response = self.post("/sandbox/chats", {"chat_id": chat_id})
            assert response.status_code == 201, response.text

    def user_says(self, bot_id, user_id, text, **extra):
        """Send a user's text message to a bot and return the control answer."""
        response = self.post("/sandbox/updates", {
            "bot_id": bot_id, "from": {"id": user_id, "first_name": "Sara"}, "text": text, **extra})
        assert response.status_code == 200, response.text
        return response.json()

    def messages(self, bot_id, chat_id):
        """Return the chat log of one chat."""
        response = self.get(f"/sandbox/chats/{chat_id}/messages", bot_id=bot_id)
        assert response.status_code == 200, response.text
        return response.json()["messages"]

    def calls(self, bot_id, method=None):
        """Return the bot's logged Bot API calls, optionally of one method."""
        calls = self.get("/sandbox/calls", bot_id=bot_id).json()["calls"]
        return [call for call in calls if method is None or call["method"] == method]


@pytest.fixture
def control(sandbox):
    """The control API client of the test's sandbox (OPEN_CHATS are registered)."""
    client = Control(sandbox.url)
    client.open_chats()
    yield client
    client.session.close()


@pytest.fixture
def telegram_api(sandbox):
    """Point pyTelegramBotAPI at the sandbox, restoring its URLs afterwards."""
    saved = apihelper.API_URL, apihelper.FILE_URL
    apihelper.API_URL = sandbox.url + "/bot{0}/{1}"
    apihelper.FILE_URL = sandbox.url + "/file/bot{0}/{1}"
    yield sandbox.url
    apihelper.API_URL, apihelper.FILE_URL = saved


@pytest.fixture
def new_token():
    """Return a factory of fresh, well-formed bot tokens."""
    return lambda: f"{next(_bot_ids)}:AAH-sandbox_secret"


@pytest.fixture
def make_bot(telegram_api, control, new_token):
    """Return a factory of registered TeleBots talking to the sandbox: -> (bot, bot_id)."""
    def make(token=None):
        token = token or new_token()
        assert control.post("/sandbox/bots", {"token": token}).status_code == 201
        return telebot.TeleBot(token, threaded=False), int(token.split(":")[0])
    return make


class WebhookReceiver:
    """A local HTTP endpoint that fails the first `failures` deliveries, then accepts."""

    def __init__(self, failures=0):
        self.failures = failures
        self.attempts = []
        self.delivered = []
        self.arrived = threading.Condition()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def url(self):
        """Return the URL to give setWebhook."""
        return f"http://127.0.0.1:{self._server.server_port}/hook"

    def _app(self, environ, start_response):
        request = Request(environ)
        with self.arrived:
            self.attempts.append(request.get_json())
            failing = len(self.attempts) <= self.failures
            if not failing:
                secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
                self.delivered.append((request.get_json(), secret))
            self.arrived.notify_all()
        return Response("fail" if failing else "ok", status=500 if failing else 200)(
            environ, start_response)

    def wait_for(self, predicate, timeout=10):
        """Wait until predicate(self) holds; return whether it did."""
        with self.arrived:
            return self.arrived.wait_for(lambda: predicate(self), timeout)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def webhook_receiver():
    """Return a factory of started WebhookReceivers, stopped after the test."""
    receivers = []

    def start(failures=0):
        receiver = WebhookReceiver(failures).__enter__()
        receivers.append(receiver)
        return receiver
    yield start
    for receiver in receivers:
        receiver.__exit__()


@pytest.fixture
def png_bytes():
    """The bytes of a small (2x3) PNG image."""
    return PNG_2X3
