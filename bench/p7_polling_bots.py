"""P7: N polling bots in one process: threads, memory, and every bot answering a /start within 30 s.

The sandbox runs in another process (as Telegram is elsewhere), so its request threads are not counted.
The bots are real: a BotManager in polling mode with the real handlers, one tenant, N bots, the real
migrations on a throwaway database. The baseline is the same process before the manager starts.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import requests

from bench import common

WORKERS = 8
#: Threads besides one per bot and the worker pool: the supervisor and what the libraries keep.
FIXED = 5
ANSWER_WITHIN = 30.0
#: The sandbox's webhook delivery pool plus its request threads: what N webhooks may add there.
SANDBOX_FIXED = 40
#: Users saying /start at the same time (in the users' process).
USER_THREADS = 8
#: The sandbox in its own process; it accepts the webhook mode's http://127.0.0.1 URLs (Telegram wants HTTPS).
SERVE_SANDBOX = ("import sys, logging; logging.disable(logging.INFO); from bots.emulator import SandboxServer; "
                 "s = SandboxServer(port=0, allow_http_webhooks=True).start(); print(s.url, flush=True); "
                 "sys.stdin.read(); s.stop()")


@contextmanager
def sandbox_elsewhere(processes: list | None = None):
    """The sandbox's URL; its Popen is appended to `processes` when given (to read its threads)."""
    process = subprocess.Popen([sys.executable, "-c", SERVE_SANDBOX], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    if processes is not None:
        processes.append(process)
    try:
        yield process.stdout.readline().strip()
    finally:
        process.stdin.close()
        process.wait(30)


def proc_status(field: str, pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/status") as status:
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for(condition, timeout: float, poll: float = 0.2) -> float:
    """Seconds until `condition()` held; raises TimeoutError after `timeout`."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise TimeoutError
        time.sleep(poll)
    return time.monotonic() - start


#: The users: another process says /start to every bot and reads the sandbox's call log for the answers, so
#: neither the 1,000 POSTs nor the checks take the measured process's CPU (or its GIL) from the bots.
USERS = """
import json, sys
from bench.p7_polling_bots import say_start_and_wait
print(json.dumps(say_start_and_wait(sys.argv[1], json.loads(sys.stdin.read()))), flush=True)
"""


def chat_of(bot_id: int) -> int:
    return 10_000 + bot_id % 100_000


def say_start_and_wait(sandbox_url: str, bot_ids: list[int]) -> dict:
    """/start to every bot at once; seconds from the first /start until the last bot's first answer."""
    local = threading.local()

    def say_start(bot_id: int) -> None:
        local.http = getattr(local, "http", None) or requests.Session()
        local.http.post(f"{sandbox_url}/sandbox/updates", json={
            "bot_id": bot_id, "from": {"id": chat_of(bot_id), "first_name": "Bench"}, "text": "/start"},
            timeout=10).raise_for_status()
    start = time.time()
    with ThreadPoolExecutor(USER_THREADS) as users:
        list(users.map(say_start, bot_ids))
    posted = time.time() - start
    http = requests.Session()
    answers: dict[int, float] = {}
    deadline = time.monotonic() + 4 * ANSWER_WITHIN
    while len(answers) < len(bot_ids) and time.monotonic() < deadline:
        time.sleep(3)  # the call log carries each call's time, so checking seldom loses no precision
        answers = first_answers(http.get(f"{sandbox_url}/sandbox/calls", timeout=60).json()["calls"], start)
    return {"posted_s": posted, "answered": len(answers),
            "answer_s": max(answers.values()) - start if answers else None}


def first_answers(calls: list[dict], since: float) -> dict[int, float]:
    """{bot id: time of its first successful send to the bench user's chat after `since`}."""
    first: dict[int, float] = {}
    for call in calls:
        bot_id = call["bot_id"]
        if (call["method"].startswith("send") and call["error_code"] is None and call["at"] >= since
                and str(call["params"].get("chat_id")) == str(chat_of(bot_id)) and bot_id not in first):
            first[bot_id] = call["at"]
    return first


def users_elsewhere(sandbox_url: str, bot_ids: list[int]) -> dict:
    done = subprocess.run([sys.executable, "-c", USERS, sandbox_url], input=json.dumps(bot_ids), text=True,
                          capture_output=True, timeout=10 * ANSWER_WITHIN + 300, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(app, sandbox_url: str, bot_ids: list[int]) -> dict:
    from bots.manager import BotManager

    before = {"threads": proc_status("Threads"), "rss_mb": proc_status("VmRSS") / 1024}
    manager = BotManager(app).start()
    try:
        startup = wait_for(lambda: len(manager.running_bot_ids()) == len(bot_ids), 300, poll=1)
        users = users_elsewhere(sandbox_url, bot_ids)
        after = {"threads": proc_status("Threads"), "rss_mb": proc_status("VmRSS") / 1024,
                 "peak_rss_mb": proc_status("VmHWM") / 1024, "py_threads": threading.active_count()}
    finally:
        manager.stop(join_seconds=15)
    return {"before": before, "after": after, "startup_s": startup, **users}


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
    note = (f"all running after {figures['startup_s']:.0f} s; the {n} /start were posted (from another process) "
            f"within {figures['posted_s']:.1f} s")
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
            "P7.answered", f"seconds until all {n} bots answered a /start", figures["answer_s"] or 4 * ANSWER_WITHIN,
            "s", None,
            "", common.Goal(max_value=ANSWER_WITHIN), n, note=f"{figures['answered']} of {n} answered; {note}")),
    ]


def measure_webhooks(app, n: int, sandbox_pid: int) -> dict:
    """Webhook mode: the manager registers every bot's webhook; no thread per bot, here or in the sandbox.

    Also watched while the bots register: the sandbox process's threads (its webhook delivery) and the
    machine's 1-minute load average (the highest seen of each).
    """
    from bots.manager import BotManager

    before = {"threads": proc_status("Threads"), "rss_mb": proc_status("VmRSS") / 1024,
              "sandbox_threads": proc_status("Threads", sandbox_pid), "load": os.getloadavg()[0]}
    peak = {"sandbox_threads": 0, "load": 0.0}

    def registered() -> bool:
        peak["sandbox_threads"] = max(peak["sandbox_threads"], proc_status("Threads", sandbox_pid))
        peak["load"] = max(peak["load"], os.getloadavg()[0])
        return len(manager.running_bot_ids()) == n
    manager = BotManager(app).start()
    try:
        startup = wait_for(registered, 1800, poll=2)
        cpu_before, idle_start = cpu_seconds(sandbox_pid), time.monotonic()
        time.sleep(10)  # the sandbox idles with n webhooks set: what does that cost?
        idle_cpu = (cpu_seconds(sandbox_pid) - cpu_before) / (time.monotonic() - idle_start)
        registered()
        after = {"threads": proc_status("Threads"), "rss_mb": proc_status("VmRSS") / 1024,
                 "sandbox_threads": proc_status("Threads", sandbox_pid),
                 "sandbox_rss_mb": proc_status("VmRSS", sandbox_pid) / 1024}
    finally:
        manager.stop(join_seconds=15)
    return {"before": before, "after": after, "peak": peak, "startup_s": startup, "sandbox_idle_cpu": idle_cpu}


def run_webhooks(n: int) -> list[common.Result]:
    sandbox = []
    with sandbox_elsewhere(sandbox) as sandbox_url, common.throwaway_database("bench_p7w") as url:
        app = common.make_app(url, TELEGRAM_API_URL=sandbox_url, BOT_MODE="webhook",
                              PUBLIC_BASE_URL="http://127.0.0.1:5499", BOT_HANDLERS="bots.handlers:register_all")
        with app.app_context():
            from flask_migrate import upgrade

            from app.extensions import db
            upgrade()
            create_bots(n, sandbox_url)
            db.session.remove()
        figures = measure_webhooks(app, n, sandbox[0].pid)
        with app.app_context():
            from app.extensions import db
            db.engine.dispose()
    added = figures["after"]["threads"] - figures["before"]["threads"]
    sandbox_added = figures["peak"]["sandbox_threads"] - figures["before"]["sandbox_threads"]
    return [common.report(common.Result(
        "P7.webhook_threads", f"OS threads added by {n} webhook bots", added, "threads",
        figures["before"]["threads"], "threads before", common.Goal(max_value=FIXED), n,
        note=f"constant: no thread per bot; all registered after {figures['startup_s']:.0f} s; "
             f"RSS {figures['after']['rss_mb']:.0f} MB")),
        common.report(common.Result(
            "P7.webhook_sandbox_threads", f"sandbox threads added by {n} webhooks (peak)", sandbox_added,
            "threads", figures["before"]["sandbox_threads"], "threads before", common.Goal(max_value=SANDBOX_FIXED),
            n, note=f"registered in {figures['startup_s']:.0f} s; load 1-min {figures['before']['load']:.1f} before, "
                    f"peak {figures['peak']['load']:.1f}; sandbox RSS {figures['after']['sandbox_rss_mb']:.0f} MB, "
                    f"{figures['sandbox_idle_cpu']:.0%} of a core while the webhooks idle"))]


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
