"""P7: N polling bots in one process: threads, memory, and every bot answering a /start within 30 s.

The sandbox runs in another process (as Telegram is elsewhere), so its request threads are not counted.
The bots are real: a BotManager in polling mode with the real handlers, one tenant, N bots, the real
migrations on a throwaway database. The baseline is the same process before the manager starts.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import requests

from bench import common

WORKERS = 8
#: Threads besides one per bot and the worker pool: the supervisor and what the libraries keep.
FIXED = 5
ANSWER_WITHIN = 30.0
SERVE_SANDBOX = ("import sys, logging; logging.disable(logging.INFO); from bots.emulator import SandboxServer; "
                 "s = SandboxServer(port=0).start(); print(s.url, flush=True); sys.stdin.read(); s.stop()")


@contextmanager
def sandbox_elsewhere():
    process = subprocess.Popen([sys.executable, "-c", SERVE_SANDBOX], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        yield process.stdout.readline().strip()
    finally:
        process.stdin.close()
        process.wait(30)


def proc_status(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


def create_bots(n: int, sandbox_url: str) -> list[int]:
    """A tenant with `n` bots, each registered in the sandbox; their Telegram ids."""
    from app.extensions import db
    from app.services import bots, tenancy

    owner = tenancy.create_account("p7-owner@example.com", "bench-password-42")
    tenant = tenancy.create_tenant("P7", owner)
    http = requests.Session()
    ids = []
    for i in range(n):
        token = f"{7_000_000 + i}:bench-p7-token-{i:05d}"
        http.post(f"{sandbox_url}/sandbox/bots", json={"token": token}, timeout=10).raise_for_status()
        bots.create_bot(tenant, token, telegram_bot_id=7_000_000 + i, username=f"sandbox{7_000_000 + i}_bot")
        ids.append(7_000_000 + i)
    db.session.commit()
    return ids


def wait_for(condition, timeout: float, poll: float = 0.2) -> float:
    """Seconds until `condition()` held; raises TimeoutError after `timeout`."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise TimeoutError
        time.sleep(poll)
    return time.monotonic() - start


def answered(http, sandbox_url: str, bot_ids: list[int], chat_of) -> int:
    count = 0
    for bot_id in bot_ids:
        messages = http.get(f"{sandbox_url}/sandbox/chats/{chat_of(bot_id)}/messages", params={"bot_id": bot_id},
                            timeout=10).json()["messages"]
        count += any(m["from_bot"] for m in messages)
    return count


def measure(app, sandbox_url: str, bot_ids: list[int]) -> dict:
    from bots.manager import BotManager

    before = {"threads": proc_status("Threads"), "rss_mb": proc_status("VmRSS") / 1024}
    manager = BotManager(app).start()
    try:
        startup = wait_for(lambda: len(manager.running_bot_ids()) == len(bot_ids), 300, poll=1)
        http, chat_of = requests.Session(), (lambda bot_id: 10_000 + bot_id % 100_000)
        sent = time.monotonic()
        for bot_id in bot_ids:
            http.post(f"{sandbox_url}/sandbox/updates", json={
                "bot_id": bot_id, "from": {"id": chat_of(bot_id), "first_name": "Bench"}, "text": "/start"},
                timeout=10).raise_for_status()
        try:
            wait_for(lambda: answered(http, sandbox_url, bot_ids, chat_of) == len(bot_ids), 4 * ANSWER_WITHIN, poll=2)
        except TimeoutError:
            pass
        elapsed = time.monotonic() - sent  # an upper bound: the last check itself takes a moment
        done = answered(http, sandbox_url, bot_ids, chat_of)
        after = {"threads": proc_status("Threads"), "rss_mb": proc_status("VmRSS") / 1024,
                 "peak_rss_mb": proc_status("VmHWM") / 1024, "py_threads": threading.active_count()}
    finally:
        manager.stop(join_seconds=15)
    return {"before": before, "after": after, "startup_s": startup, "answered": done, "answer_s": elapsed}


def run(n: int) -> list[common.Result]:
    with sandbox_elsewhere() as sandbox_url, common.throwaway_database("bench_p7") as url:
        app = common.make_app(url, TELEGRAM_API_URL=sandbox_url, BOT_MODE="polling", BOT_WORKERS=WORKERS,
                              BOT_HANDLERS="bots.handlers:register_all")
        with app.app_context():
            from flask_migrate import upgrade
            upgrade()
            bot_ids = create_bots(n, sandbox_url)
            from app.extensions import db
            db.session.remove()
        figures = measure(app, sandbox_url, bot_ids)
        with app.app_context():
            from app.extensions import db
            db.engine.dispose()
    added = figures["after"]["threads"] - figures["before"]["threads"]
    note = f"all running after {figures['startup_s']:.0f} s"
    return [
        common.report(common.Result(
            "P7.threads", f"OS threads added by {n} polling bots", added, "threads", figures["before"]["threads"],
            "threads before", common.Goal(max_value=1.05 * n + WORKERS + FIXED), n,
            note=f"{added / n:.3f} per bot; limit 1.05 × {n} + pool {WORKERS} + {FIXED}")),
        common.report(common.Result(
            "P7.rss", f"RSS with {n} polling bots", figures["after"]["rss_mb"], "MB", figures["before"]["rss_mb"],
            "before the bots", common.Goal(max_value=600), n,
            note=f"peak {figures['after']['peak_rss_mb']:.0f} MB")),
        common.report(common.Result(
            "P7.answered", f"seconds until all {n} bots answered a /start", figures["answer_s"], "s", None,
            "", common.Goal(max_value=ANSWER_WITHIN), n, note=f"{figures['answered']} of {n} answered; {note}")),
    ]


def measure_webhooks(app, n: int) -> dict:
    """Webhook mode: the manager registers every bot's webhook; no thread per bot."""
    from bots.manager import BotManager

    before = {"threads": proc_status("Threads"), "rss_mb": proc_status("VmRSS") / 1024}
    manager = BotManager(app).start()
    try:
        startup = wait_for(lambda: len(manager.running_bot_ids()) == n, 1800, poll=2)
        after = {"threads": proc_status("Threads"), "rss_mb": proc_status("VmRSS") / 1024}
    finally:
        manager.stop(join_seconds=15)
    return {"before": before, "after": after, "startup_s": startup}


def run_webhooks(n: int) -> list[common.Result]:
    with sandbox_elsewhere() as sandbox_url, common.throwaway_database("bench_p7w") as url:
        app = common.make_app(url, TELEGRAM_API_URL=sandbox_url, BOT_MODE="webhook",
                              PUBLIC_BASE_URL="http://127.0.0.1:5499", BOT_HANDLERS="bots.handlers:register_all")
        with app.app_context():
            from flask_migrate import upgrade

            from app.extensions import db
            upgrade()
            create_bots(n, sandbox_url)
            db.session.remove()
        figures = measure_webhooks(app, n)
        with app.app_context():
            from app.extensions import db
            db.engine.dispose()
    added = figures["after"]["threads"] - figures["before"]["threads"]
    return [common.report(common.Result(
        "P7.webhook_threads", f"OS threads added by {n} webhook bots", added, "threads",
        figures["before"]["threads"], "threads before", common.Goal(max_value=FIXED), n,
        note=f"constant: no thread per bot; all registered after {figures['startup_s']:.0f} s; "
             f"RSS {figures['after']['rss_mb']:.0f} MB"))]


def main() -> None:
    parser = common.parser(__doc__.splitlines()[0])
    parser.add_argument("--bots", type=int, default=200)
    parser.add_argument("--mode", choices=("polling", "webhook"), default="polling")
    args = parser.parse_args()
    os.environ.setdefault("BOTFLEET_ENV", "testing")
    print(common.TABLE_HEADER)
    (run if args.mode == "polling" else run_webhooks)(args.bots)


if __name__ == "__main__":
    main()
