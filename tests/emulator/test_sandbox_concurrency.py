"""Many bots long-polling at once, and a server that stops while requests still wait."""

import threading
import time

import pytest
import requests

from bots.emulator import SandboxServer
from tests.waiting import wait_until

pytestmark = pytest.mark.timeout(30)


def test_many_bots_long_poll_concurrently_and_each_gets_its_own_updates(make_bot, control):
    bots = [make_bot() for _ in range(8)]
    received = {}

    def poll(bot, bot_id):
        received[bot_id] = bot.get_updates(long_polling_timeout=10, timeout=15)
    pollers = [threading.Thread(target=poll, args=pair) for pair in bots]
    for poller in pollers:
        poller.start()
    # every poll is now waiting (the sandbox logged it); none may block the control API
    wait_until(lambda: all(control.calls(bot_id, "getUpdates") for _, bot_id in bots),
               message="every bot's getUpdates to be waiting")

    started = time.monotonic()
    for _, bot_id in bots:
        control.user_says(bot_id, 960, f"for {bot_id}")
    for poller in pollers:
        poller.join(10)

    assert time.monotonic() - started < 5
    assert {bot_id: [u.message.text for u in updates] for bot_id, updates in received.items()} == {
        bot_id: [f"for {bot_id}"] for _, bot_id in bots}


def test_stop_releases_waiting_long_polls_promptly():
    server = SandboxServer().start()
    url = f"{server.url}/bot77:stop-test/getUpdates"
    answers = []
    waiting = threading.Thread(target=lambda: answers.append(
        requests.get(url, params={"timeout": 30}, timeout=40).json()))
    waiting.start()
    wait_until(lambda: requests.get(f"{server.url}/sandbox/calls", timeout=5).json()["calls"],
               message="the getUpdates to be waiting")

    started = time.monotonic()
    server.stop()
    waiting.join(5)

    assert time.monotonic() - started < 3
    assert answers == [{"ok": True, "result": []}]
