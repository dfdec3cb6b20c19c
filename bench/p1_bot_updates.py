"""P1: bot updates answered per second, 20 polling bots × 50 users (/start, then /profile), against 20 bare
pyTelegramBotAPI echo bots (the baseline), in the same run.

Botfleet's bots are a BotManager with the real handlers on a throwaway Postgres database with the real
migrations; every update is its own transaction. Each side has a sandbox of its own (in its own process, as
Telegram is elsewhere), so neither pays for the other's call log. The clock runs from the first update posted
to the last answer seen by the sandbox (its sendMessage count). The sides take turns (only one side's bots run
at a time: pyTelegramBotAPI's Bot API address is process-wide): a warm-up round, then 3 rounds, each with 50
new users per bot; the figure is the median of the 3, so a machine that gets busier or quieter meanwhile moves
both alike.
"""
from __future__ import annotations

import contextlib
import statistics
import threading
import time
from collections.abc import Callable, Iterator

import requests
import telebot

from bench import common
from bench.p7_polling_bots import create_bots, sandbox_elsewhere, wait_for

BOTS, USERS, ROUNDS = 20, 50, 3
WARM_UP_USERS = 10
FIRST_USER = 500_000
#: Long-polls are 10 s: a side's polling threads end within that once stopped.
BOTS_STOP_SECONDS = 15
GOAL = common.Goal(min_ratio=0.8)
#: How often the answers are counted once every update is posted (the posting is sequential, so this wait is only
#: the last answers' tail). At 0.5 s a side whose last answer came 20 ms after the last post was clocked 0.5 s
#: later than one whose came in 2 ms: ~8% of a 6 s round, more than the sides' real difference (h3, 1 Dec 2026:
#: tails 0.14-0.24 s vs 0.01-0.08 s counted every 50 ms).
ANSWER_POLL_SECONDS = 0.02


def send_messages(sandbox_url: str, bot_ids: list[int], texts: tuple[str, ...], users: range) -> None:
    http = requests.Session()
    for user in users:
        for bot_id in bot_ids:
            for text in texts:
                http.post(f"{sandbox_url}/sandbox/updates", json={
                    "bot_id": bot_id, "from": {"id": user, "first_name": f"User{user - FIRST_USER}"}, "text": text},
                    timeout=10).raise_for_status()


def sends(http, sandbox_url: str, since: float) -> int:
    """sendMessage calls the sandbox logged since `since` (a Unix time). Asked narrowed by the sandbox: this poll
    runs in the bots' process (every ANSWER_POLL_SECONDS after the last post), and decoding the whole call log
    (every getUpdates too, growing all run) took 15% of the process's GIL samples in a py-spy profile of a round,
    beside the bots it measures."""
    return len(http.get(f"{sandbox_url}/sandbox/calls", params={"method": "sendMessage", "since": since},
                        timeout=30).json()["calls"])


def answered_per_second(sandbox_url: str, bot_ids: list[int], users: range) -> float:
    http = requests.Session()
    since = time.time()  # the previous round's answers were all counted before it ended
    expected = len(bot_ids) * len(users) * 2
    start = time.monotonic()
    send_messages(sandbox_url, bot_ids, ("/start", "/profile"), users)
    wait_for(lambda: sends(http, sandbox_url, since) >= expected, 600, poll=ANSWER_POLL_SECONDS)
    return expected / (time.monotonic() - start)


@contextlib.contextmanager
def botfleet_side(sandbox_url: str) -> Iterator[tuple[list[int], Callable]]:
    """BOTS Botfleet bots on `sandbox_url` (their Telegram ids), and `running()`: a BotManager polling for them."""
    with common.throwaway_database("bench_p1") as url:
        app = common.make_app(url, TELEGRAM_API_URL=sandbox_url, BOT_MODE="polling",
                              BOT_HANDLERS="bots.handlers:register_all")
        with app.app_context():
            from flask_migrate import upgrade

            from app.extensions import db
            upgrade()
            bot_ids = create_bots(BOTS, sandbox_url)
            db.session.remove()

        @contextlib.contextmanager
        def running():
            from bots.manager import BotManager

            manager = BotManager(app).start()  # points pyTelegramBotAPI (process-wide) at this sandbox
            try:
                wait_for(lambda: len(manager.running_bot_ids()) == BOTS, 120, poll=0.5)
                yield
            finally:
                manager.stop(join_seconds=BOTS_STOP_SECONDS)

        try:
            yield bot_ids, running
        finally:
            with app.app_context():
                db.engine.dispose()


@contextlib.contextmanager
def echo_side(sandbox_url: str) -> Iterator[tuple[list[int], Callable]]:
    """BOTS bare TeleBots that echo every text (no database, no handlers of ours, the library's own HTTP
    sender), and `running()`: one polling thread each."""
    from telebot import apihelper

    tokens = [f"{8_000_000 + i}:bench-echo-token-{i:05d}" for i in range(BOTS)]
    for token in tokens:
        requests.post(f"{sandbox_url}/sandbox/bots", json={"token": token}, timeout=10).raise_for_status()

    def echo_bot(token: str) -> telebot.TeleBot:
        tb = telebot.TeleBot(token, threaded=False)
        tb.message_handler(func=lambda m: True)(lambda m: tb.send_message(m.chat.id, m.text or "?"))
        return tb

    @contextlib.contextmanager
    def running():
        apihelper.API_URL, apihelper.CUSTOM_REQUEST_SENDER = sandbox_url + "/bot{0}/{1}", None
        bots = [echo_bot(token) for token in tokens]  # a stopped TeleBot does not poll again
        threads = [threading.Thread(target=tb.infinity_polling, kwargs={"timeout": 10, "long_polling_timeout": 10},
                                    daemon=True) for tb in bots]
        for thread in threads:
            thread.start()
        time.sleep(2)
        try:
            yield
        finally:
            for tb in bots:
                tb.stop_polling()
            for thread in threads:  # a long-poll in flight ends first
                thread.join(BOTS_STOP_SECONDS)

    yield [int(token.split(":")[0]) for token in tokens], running


def run() -> list[common.Result]:
    rates: dict[str, list[float]] = {"ours": [], "bare": []}
    with sandbox_elsewhere() as ours_url, sandbox_elsewhere() as bare_url, \
            botfleet_side(ours_url) as (ours_ids, ours_running), echo_side(bare_url) as (bare_ids, bare_running):
        sides = (("ours", ours_url, ours_ids, ours_running), ("bare", bare_url, bare_ids, bare_running))
        first = FIRST_USER
        for round_number in range(ROUNDS + 1):
            users = range(first, first + (USERS if round_number else WARM_UP_USERS))
            first = users.stop
            for name, url, ids, running in sides:
                with running():
                    rate = answered_per_second(url, ids, users)
                if round_number:
                    rates[name].append(rate)
    ours, bare = statistics.median(rates["ours"]), statistics.median(rates["bare"])
    spread = ", ".join(f"{o:.0f}/{b:.0f}" for o, b in zip(rates["ours"], rates["bare"], strict=True))
    return [common.report(common.Result(
        "P1.bot_updates", f"updates answered/s, {BOTS} polling bots × {USERS} users (/start, /profile)", ours, "/s",
        bare, f"{BOTS} bare pyTelegramBotAPI echo bots", GOAL, 0, note=f"rounds (ours/bare): {spread}"))]


def main() -> None:
    common.parser(__doc__.splitlines()[0]).parse_args()
    print(common.TABLE_HEADER)
    run()


if __name__ == "__main__":
    main()
