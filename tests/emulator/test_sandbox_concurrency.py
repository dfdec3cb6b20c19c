"""Many bots long-polling at once, and a server that stops while requests still wait."""

import threading
import time

import pytest
import requests

from bots.emulator import SandboxServer

pytestmark = pytest.mark.timeout(30)


def test_many_bots_long_poll_concurrently_and_each_gets_its_own_updates(make_bot, control):
    bots = [make_bot() for _ in range(8)]
    received = {}

    def poll(bot, bot_id):
        received[bot_id] = bot.get_updates(long_polling_timeout=10, timeout=15)
    pollers = [threading.Thread(target=poll, args=pair) for pair in bots]
    for poller in pollers:
        poller.start()
    time.sleep(0.3)  # every poll is now waiting; none may block the control API

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
    time.sleep(0.2)

    started = time.monotonic()
    server.stop()
    waiting.join(5)

    assert time.monotonic() - started < 3
    assert answers == [{"ok": True, "result": []}]
