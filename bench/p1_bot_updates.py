"""P1: bot updates answered per second, 20 polling bots × 50 users (/start, then /profile), against 20 bare
pyTelegramBotAPI echo bots on the same sandbox (the baseline), in the same run.

Botfleet's bots are a BotManager with the real handlers on a throwaway Postgres database with the real
migrations; every update is its own transaction. The clock runs from the first update posted to the last
answer seen by the sandbox (its sendMessage count).
"""
from __future__ import annotations

import threading
import time

import requests
import telebot

from bench import common
from bench.p7_polling_bots import create_bots, sandbox_elsewhere, wait_for

BOTS, USERS = 20, 50
GOAL = common.Goal(min_ratio=0.8)


def send_messages(sandbox_url: str, bot_ids: list[int], texts: tuple[str, ...]) -> None:
    http = requests.Session()
    for user in range(USERS):
        for bot_id in bot_ids:
            for text in texts:
                http.post(f"{sandbox_url}/sandbox/updates", json={
                    "bot_id": bot_id, "from": {"id": 500_000 + user, "first_name": f"User{user}"}, "text": text},
                    timeout=10).raise_for_status()


def sends(http, sandbox_url: str) -> int:
    calls = http.get(f"{sandbox_url}/sandbox/calls", timeout=30).json()["calls"]
    return sum(1 for c in calls if c["method"].lower() == "sendmessage")


def answered_per_second(sandbox_url: str, bot_ids: list[int]) -> float:
    http = requests.Session()
    already = sends(http, sandbox_url)
    expected = already + len(bot_ids) * USERS * 2
    start = time.monotonic()
    send_messages(sandbox_url, bot_ids, ("/start", "/profile"))
    wait_for(lambda: sends(http, sandbox_url) >= expected, 600, poll=0.5)
    return (expected - already) / (time.monotonic() - start)


def botfleet_rate(sandbox_url: str) -> float:
    from bots.manager import BotManager

    with common.throwaway_database("bench_p1") as url:
        app = common.make_app(url, TELEGRAM_API_URL=sandbox_url, BOT_MODE="polling",
                              BOT_HANDLERS="bots.handlers:register_all")
        with app.app_context():
            from flask_migrate import upgrade

            from app.extensions import db
            upgrade()
            bot_ids = create_bots(BOTS, sandbox_url)
            db.session.remove()
        manager = BotManager(app).start()
        try:
            wait_for(lambda: len(manager.running_bot_ids()) == BOTS, 120, poll=0.5)
            return answered_per_second(sandbox_url, bot_ids)
        finally:
            manager.stop(join_seconds=15)
            with app.app_context():
                from app.extensions import db
                db.engine.dispose()


def echo_rate(sandbox_url: str) -> float:
    """The same load on bare TeleBots that echo every text (no database, no handlers of ours)."""
    from telebot import apihelper

    apihelper.API_URL = sandbox_url + "/bot{0}/{1}"
    bots, bot_ids = [], []
    for i in range(BOTS):
        token = f"{8_000_000 + i}:bench-echo-token-{i:05d}"
        requests.post(f"{sandbox_url}/sandbox/bots", json={"token": token}, timeout=10).raise_for_status()
        tb = telebot.TeleBot(token, threaded=False)
        tb.message_handler(func=lambda m: True)(lambda m, tb=tb: tb.send_message(m.chat.id, m.text or "?"))
        bots.append(tb)
        bot_ids.append(8_000_000 + i)
    threads = [threading.Thread(target=tb.infinity_polling, kwargs={"timeout": 10, "long_polling_timeout": 10},
                                daemon=True) for tb in bots]
    for thread in threads:
        thread.start()
    time.sleep(2)
    try:
        return answered_per_second(sandbox_url, bot_ids)
    finally:
        for tb in bots:
            tb.stop_polling()


def run() -> list[common.Result]:
    with sandbox_elsewhere() as sandbox_url:
        ours = botfleet_rate(sandbox_url)
        bare = echo_rate(sandbox_url)
    return [common.report(common.Result(
        "P1.bot_updates", f"updates answered/s, {BOTS} polling bots × {USERS} users (/start, /profile)", ours, "/s",
        bare, f"{BOTS} bare pyTelegramBotAPI echo bots", GOAL, 0))]


def main() -> None:
    common.parser(__doc__.splitlines()[0]).parse_args()
    print(common.TABLE_HEADER)
    run()


if __name__ == "__main__":
    main()
