"""Webhook delivery by a bounded pool: a fixed number of threads whatever the number of bots, each bot's
updates in order with one in flight, failures retried without holding up the other bots."""

import threading
import time
from collections import defaultdict

import pytest
import requests
from werkzeug import Request, Response
from werkzeug.serving import make_server

from bots.emulator import RetryPolicy, SandboxServer
from tests.waiting import wait_until

pytestmark = pytest.mark.timeout(60)


class CountingReceiver:
    """A webhook for many bots (told apart by the chat of their updates). It records every attempt,
    how many deliveries of one chat were in flight at once, and fails the first attempt of each
    update whose text starts with "fail"."""

    def __init__(self, hold=0.0):
        self.hold = hold
        self.lock = threading.Condition()
        self.attempts = defaultdict(list)  # chat id -> [text of each attempt]
        self.delivered = defaultdict(list)  # chat id -> [text of each accepted update]
        self.in_flight = defaultdict(int)
        self.most_in_flight = 0
        self.failed_once = set()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_port}/hook"

    def _app(self, environ, start_response):
        update = Request(environ).get_json()
        message = update["message"]
        chat, text = message["chat"]["id"], message["text"]
        with self.lock:
            self.in_flight[chat] += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight[chat])
            self.attempts[chat].append(text)
            fail = text.startswith("fail") and update["update_id"] not in self.failed_once
            if fail:
                self.failed_once.add(update["update_id"])
        time.sleep(self.hold)  # keep the delivery in flight a moment, so overlaps would show
        with self.lock:
            self.in_flight[chat] -= 1
            if not fail:
                self.delivered[chat].append(text)
            self.lock.notify_all()
        return Response("no", status=500 if fail else 200)(environ, start_response)

    def total_delivered(self):
        with self.lock:
            return sum(len(texts) for texts in self.delivered.values())

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver():
    started = []

    def start(**options):
        started.append(CountingReceiver(**options))
        return started[-1]
    yield start
    for one in started:
        one.stop()


def start_sandbox(workers, **policy):
    server = SandboxServer(retry_policy=RetryPolicy(**policy) if policy else None,
                           allow_http_webhooks=True).start()
    server.app.webhooks.workers = workers  # before the first setWebhook starts them
    return server


def webhook_threads():
    return [thread for thread in threading.enumerate() if thread.name.startswith("sandbox-webhook")]


def set_up_bots(url, count, webhook_url, first_id):
    http = requests.Session()
    tokens = {}
    for index in range(count):
        bot_id = first_id + index
        token = tokens[bot_id] = f"{bot_id}:pool-test-{index}"
        http.post(f"{url}/sandbox/bots", json={"token": token}, timeout=5).raise_for_status()
        http.post(f"{url}/bot{token}/setWebhook", data={"url": webhook_url}, timeout=5).raise_for_status()
    return http, tokens


def say(http, url, bot_id, text):
    http.post(f"{url}/sandbox/updates", timeout=5, json={
        "bot_id": bot_id, "from": {"id": chat_of(bot_id), "first_name": "Pool"}, "text": text}).raise_for_status()


def chat_of(bot_id):
    return 500_000 + bot_id


def test_many_webhook_bots_share_a_fixed_number_of_threads(receiver):
    hook = receiver()
    server = start_sandbox(workers=4)
    try:
        http, tokens = set_up_bots(server.url, 150, hook.url, first_id=8_100_000)
        for bot_id in tokens:
            for index in range(3):
                say(http, server.url, bot_id, f"message {index}")

        wait_until(lambda: hook.total_delivered() == 450, timeout=40, message="450 deliveries")
        assert len(webhook_threads()) == 4 == server.app.webhooks.thread_count()
        assert {chat: texts for chat, texts in hook.delivered.items()} == {
            chat_of(bot_id): ["message 0", "message 1", "message 2"] for bot_id in tokens}
        pending = [requests.get(f"{server.url}/bot{token}/getWebhookInfo", timeout=5).json()["result"]
                   ["pending_update_count"] for token in list(tokens.values())[:5]]
        assert pending == [0] * 5
    finally:
        server.stop()
    assert webhook_threads() == []


def test_a_bot_has_one_update_in_flight_and_its_retries_keep_the_order(receiver):
    hook = receiver(hold=0.01)
    server = start_sandbox(workers=6, first_delay=0.01, max_delay=0.05)
    texts = ["fail a", "b", "fail c", "d", "e"]
    try:
        http, tokens = set_up_bots(server.url, 8, hook.url, first_id=8_200_000)
        for text in texts:  # interleaved across bots, so every worker has something to do
            for bot_id in tokens:
                say(http, server.url, bot_id, text)

        wait_until(lambda: hook.total_delivered() == 8 * len(texts), timeout=30, message="every update")
        deliveries = requests.get(f"{server.url}/sandbox/webhook-deliveries", timeout=5,
                                  params={"bot_id": 8_200_000}).json()["deliveries"]
    finally:
        server.stop()

    assert hook.most_in_flight == 1
    for bot_id in tokens:
        assert hook.delivered[chat_of(bot_id)] == texts
        # a failed update is tried again before anything behind it
        assert hook.attempts[chat_of(bot_id)] == ["fail a", "fail a", "b", "fail c", "fail c", "d", "e"]
    assert [(d["attempts"], d["last_status"], d["delivered"]) for d in deliveries] == [
        (2, 200, True), (1, 200, True), (2, 200, True), (1, 200, True), (1, 200, True)]


def test_a_bot_waiting_for_its_retry_does_not_hold_up_the_others(receiver):
    hook = receiver()
    # one worker: were it asleep through the failing bot's 30 s backoff, the other bot would wait too
    server = start_sandbox(workers=1, first_delay=30, max_delay=30)
    try:
        http, tokens = set_up_bots(server.url, 2, hook.url, first_id=8_300_000)
        failing, healthy = tokens
        say(http, server.url, failing, "fail forever (for 30 s)")
        wait_until(lambda: hook.attempts[chat_of(failing)], message="the first attempt")
        say(http, server.url, healthy, "hello")
        say(http, server.url, failing, "behind the failing one")

        wait_until(lambda: hook.delivered[chat_of(healthy)] == ["hello"], message="the other bot's update")
        deliveries = requests.get(f"{server.url}/sandbox/webhook-deliveries", timeout=5,
                                  params={"bot_id": failing}).json()["deliveries"]
    finally:
        server.stop()
    assert hook.delivered[chat_of(failing)] == []
    assert hook.attempts[chat_of(failing)] == ["fail forever (for 30 s)"]
    [delivery] = deliveries
    assert (delivery["attempts"], delivery["last_status"], delivery["delivered"]) == (1, 500, False)
    assert delivery["next_attempt_at"] > time.time() + 20


def test_a_shortened_retention_reaches_a_bot_waiting_for_a_long_backoff(receiver):
    hook = receiver()
    server = start_sandbox(workers=2, first_delay=600, max_delay=600)
    try:
        http, tokens = set_up_bots(server.url, 1, hook.url, first_id=8_400_000)
        [bot_id] = tokens

        def deliveries():
            return requests.get(f"{server.url}/sandbox/webhook-deliveries", timeout=5,
                                params={"bot_id": bot_id}).json()["deliveries"]
        say(http, server.url, bot_id, "fail, then wait ten minutes")
        wait_until(lambda: hook.attempts[chat_of(bot_id)], message="the first attempt")

        # the bot sleeps until its retry in ten minutes; a shorter retention must wake it to drop the update
        requests.post(f"{server.url}/sandbox/webhook-retention", json={"seconds": 0.2}, timeout=5)
        wait_until(lambda: deliveries()[0]["dropped"], message="the update dropped")
        requests.post(f"{server.url}/sandbox/webhook-retention", json={"seconds": None}, timeout=5)
        say(http, server.url, bot_id, "next")

        wait_until(lambda: hook.delivered[chat_of(bot_id)] == ["next"], message="the next update")
        finished = deliveries()
    finally:
        server.stop()
    assert hook.attempts[chat_of(bot_id)] == ["fail, then wait ten minutes", "next"]
    assert [(d["attempts"], d["delivered"], d["dropped"]) for d in finished] == [(1, False, True), (1, True, False)]
