"""The sandbox driven by real third-party Telegram clients (python-telegram-bot, aiogram,
pyTelegramBotAPI), as api.telegram.org would be. Expected values come from the Bot API documentation
(core.telegram.org/bots/api), not from the sandbox's own output.
"""

import base64
import itertools
import json
import threading

import pytest
import requests
from werkzeug import Request, Response
from werkzeug.serving import make_server

from bots.emulator import SandboxServer

#: A valid 2x3 PNG (Telegram keeps a single size of so small a picture).
PNG_2X3 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAIAAAA2iEnWAAAAC0lEQVR4nGNgwAIAABUAAapll8QAAAAASUVORK5CYII=")
USER_ID = 424_242
_bot_ids = itertools.count(710_000_001)

pytestmark = pytest.mark.timeout(60)


class Sandbox:
    """A started sandbox and a client for its control API."""

    def __init__(self, server):
        self.server = server
        self.url = server.url
        self.http = requests.Session()

    def post(self, path, body):
        response = self.http.post(self.url + path, json=body, timeout=10)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def get(self, path, **params):
        response = self.http.get(self.url + path, params=params, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def new_bot(self):
        """Register a fresh bot and return (token, bot_id)."""
        bot_id = next(_bot_ids)
        token = f"{bot_id}:AAE-conformance_{bot_id}"
        self.post("/sandbox/bots", {"token": token, "username": f"conf{bot_id}_bot",
                                    "first_name": "Conformance"})
        return token, bot_id

    def user_writes(self, bot_id, text, user_id=USER_ID):
        """A user writes to the bot (so the bot may answer them) and returns the control answer."""
        return self.post("/sandbox/updates", {
            "bot_id": bot_id, "text": text,
            "from": {"id": user_id, "first_name": "Sara", "username": "sara", "language_code": "en"}})

    def user_taps(self, bot_id, message_id, data, user_id=USER_ID):
        """The user taps an inline button of a bot message."""
        return self.post("/sandbox/updates", {
            "bot_id": bot_id, "callback": {"message_id": message_id, "data": data},
            "from": {"id": user_id, "first_name": "Sara"}})

    def messages(self, bot_id, chat_id=USER_ID):
        return self.get(f"/sandbox/chats/{chat_id}/messages", bot_id=bot_id)["messages"]

    def callback_answers(self, bot_id):
        return self.get("/sandbox/callback-answers", bot_id=bot_id)["answers"]

    def raw(self, method, token, **params):
        """Call a Bot API method with plain HTTP (JSON body); return the response."""
        return self.http.post(f"{self.url}/bot{token}/{method}", json=params, timeout=10)


@pytest.fixture
def sandbox():
    """A sandbox on an ephemeral port; http:// webhooks allowed for the local receivers."""
    server = SandboxServer(host="127.0.0.1", port=0, allow_http_webhooks=True).start()
    client = Sandbox(server)
    yield client
    client.http.close()
    server.stop()


@pytest.fixture
def bot_with_user(sandbox):
    """(token, bot_id) of a bot the user USER_ID already wrote to."""
    token, bot_id = sandbox.new_bot()
    sandbox.user_writes(bot_id, "hi")
    return token, bot_id


@pytest.fixture
def png():
    return PNG_2X3


class WebhookReceiver:
    """A local webhook endpoint: records (update, secret header) and answers `reply` (JSON)."""

    def __init__(self):
        self.deliveries = []
        self.reply = None
        self.arrived = threading.Condition()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self._server.server_port}/hook"

    def _app(self, environ, start_response):
        request = Request(environ)
        with self.arrived:
            self.deliveries.append((request.get_json(),
                                    request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
            reply, self.reply = self.reply, None
            self.arrived.notify_all()
        body = json.dumps(reply) if reply else ""
        return Response(body, content_type="application/json")(environ, start_response)

    def wait_for_deliveries(self, count, timeout=10):
        """Return the deliveries once there are `count` of them (fail after timeout)."""
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.deliveries) >= count, timeout), \
                self.deliveries
            return list(self.deliveries)

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def webhook_receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()
