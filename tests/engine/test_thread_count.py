"""The process thread count with 50 polling bots: one thread per bot plus a fixed pool and a constant."""
import subprocess
import sys
import threading

import pytest

from bots.manager import BotManager
from tests.engine.conftest import Sandbox, engine_pointed_at
from tests.waiting import wait_until

BOTS = 50
WORKERS = 8
#: The supervisor, plus slack for a thread the standard library may keep (e.g. a requests resolver).
CONSTANT = 3
SERVE_SANDBOX = ("import sys; from bots.emulator import SandboxServer; s = SandboxServer().start(); "
                 "print(s.url, flush=True); sys.stdin.read(); s.stop()")


@pytest.fixture
def sandbox_elsewhere():
    """A sandbox in another process, so its request threads are not counted as ours."""
    process = subprocess.Popen([sys.executable, "-c", SERVE_SANDBOX], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    url = process.stdout.readline().strip()
    client = Sandbox(url)
    yield client
    client.http.close()
    process.stdin.close()
    process.wait(10)


def os_thread_count() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("Threads:"))


@pytest.mark.slow
def test_50_polling_bots_use_one_thread_each_plus_a_fixed_pool(app, db, make, sandbox_elsewhere):
    from app.services.bots import bot_token

    tenants = [make.tenant() for _ in range(5)]
    bots = [make.bot(tenants[n % 5]) for n in range(BOTS)]
    for bot in bots:
        sandbox_elsewhere.post("/sandbox/bots", {"token": bot_token(bot)})
    before_py, before_os = threading.active_count(), os_thread_count()
    with engine_pointed_at(app, sandbox_elsewhere.url):
        app.config["BOT_WORKERS"] = WORKERS
        manager = BotManager(app).start()
        try:
            wait_until(lambda: len(manager.running_bot_ids()) == BOTS, 20, message="50 running bots")
            for n, bot in enumerate(bots):  # enough work to bring up every pool thread
                sandbox_elsewhere.say(bot.telegram_bot_id, 10 + n, "/start")
            for n, bot in enumerate(bots):
                sandbox_elsewhere.wait_for_reply(bot.telegram_bot_id, 10 + n, timeout=20)
            added_py = threading.active_count() - before_py
            added_os = os_thread_count() - before_os
        finally:
            manager.stop(join_seconds=5)
    print(f"\n50 polling bots: +{added_py} Python threads, +{added_os} OS threads "
          f"(limit {BOTS} + {WORKERS} + {CONSTANT})")
    assert added_py <= BOTS + WORKERS + CONSTANT
    assert added_os <= BOTS + WORKERS + CONSTANT
    assert added_py >= BOTS  # it did measure the bots
