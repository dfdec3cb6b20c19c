"""P2: Telegram webhook requests/s under gunicorn (2 workers, gthread × 4), against a bare Flask JSON route on the
same gunicorn, in the same run (issue 13's goal: ≥ 0.25×).

Botfleet: `wsgi:app` in its production configuration (secrets from the environment; Telegram's send limits
raised so no reply is held back, as the other bots benches do), on a throwaway Postgres database with the real
migrations, 20 bots and the sandbox (in its own process) as Telegram. Each request is what Telegram POSTs to
/tg/<bot_id>: a member's /start or /profile with the bot's secret header; Botfleet handles it in the request
(dedupe, the handler, the commit) and its reply goes as in production: an update's one reply is the Bot API
method in the response's body, which Telegram makes on its own servers (several replies would be an outbox row
sent by the app's reply threads, inside the clock). The client stands for Telegram there too: it keeps each
answered method and makes it in the sandbox's Bot API once the round's clock has stopped, so every reply is still
checked made, while Telegram's work is not charged to the server measured. (Made during the rounds, until 1 Dec
2026, the sandbox and the client's calls took ~28% of this 2-core machine's CPU beside Botfleet's workers, and
none beside the bare route, which answers no method.) Every member has /started once before the clock runs (a
warm-up round), so these are returning members, as most are.

The baseline is bench/p2_bare_app.py: the same requests to a Flask route that parses the JSON and answers JSON.
Client threads keep their connections alive (http.client, lighter than requests, so the client takes less of
the machine from the servers); the rate is requests / wall time, the median of ROUNDS (5) rounds after a warm-up,
the two apps taking turns round by round so a machine that gets busier or quieter moves both alike (with 3 rounds,
one round's swing on a shared 2-core machine moved the ratio by ±15%). Gunicorn's access log is off for both
(production logs requests at nginx).
"""
from __future__ import annotations

import http.client
import itertools
import json
import os
import random
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import requests
from cryptography.fernet import Fernet

from bench import common
from bench.p7_polling_bots import create_bots, sandbox_elsewhere

BOTS, USERS = 20, 50
ROUNDS = 5
FIRST_USER = 600_000
GOAL = common.Goal(min_ratio=0.25)
PORTS = {"botfleet": int(os.environ.get("BENCH_P2_PORT", 5421)),
         "bare": int(os.environ.get("BENCH_P2_BARE_PORT", 5422))}
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_update_ids = itertools.count(1)


def seed(sandbox_url: str) -> list[tuple[int, str, str]]:
    """Migrations, a tenant with BOTS bots registered in the sandbox, USERS chats open; (bot id, secret, token) each."""
    from flask_migrate import upgrade

    from app.extensions import db
    from app.models import Bot
    from app.services.bots import bot_token

    upgrade()
    telegram_ids = create_bots(BOTS, sandbox_url)
    http = requests.Session()
    for user in range(USERS):  # the sandbox lets every bot write to a chat it knows (as Telegram does)
        http.post(f"{sandbox_url}/sandbox/chats", json={"chat_id": FIRST_USER + user}, timeout=10).raise_for_status()
    bots = db.session.query(Bot).filter(Bot.telegram_bot_id.in_(telegram_ids)).order_by(Bot.id).all()
    return [(bot.id, bot.webhook_secret, bot_token(bot)) for bot in bots]


def production_env(database_url: str, sandbox_url: str, key: str) -> dict:
    return {"BOTFLEET_ENV": "production", "DATABASE_URL": database_url, "TELEGRAM_API_URL": sandbox_url,
            "SECRET_KEY": "bench-secret-key", "TOKEN_ENCRYPTION_KEY": key, "RUNTIME_ENABLED": "0",
            "TELEGRAM_LIMIT_PER_BOT": "100000/second", "TELEGRAM_LIMIT_PER_CHAT": "100000/second"}




def update(user: int, text: str) -> dict:
    """A private message from `user`, shaped as Telegram sends it."""
    update_id = next(_update_ids)
    person = {"id": user, "is_bot": False, "first_name": f"User{user - FIRST_USER}", "language_code": "en"}
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": int(time.time()), "text": text, "from": person,
        "chat": {"id": user, "type": "private", "first_name": person["first_name"]},
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}}


class Client:
    """One keep-alive connection posting updates to one server; the Bot API methods a webhook answered with are
    kept in `answers` (bot token, body) for `make_answers`."""

    def __init__(self, port: int, answers: list[tuple[str, bytes]]):
        self.port, self.answers = port, answers
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def post(self, bot: tuple[int, str, str], payload: dict) -> None:
        status, answer = _post(self.conn, f"/tg/{bot[0]}", json.dumps(payload).encode(),
                               {"Content-Type": "application/json", SECRET_HEADER: bot[1]})
        if status != 200:
            raise RuntimeError(f"{status} from port {self.port}: {answer[:200]!r}")
        if answer.startswith(b'{"method"'):  # (the bare route's JSON is not parsed)
            self.answers.append((bot[2], answer))


def make_answers(sandbox_url: str, answers: list[tuple[str, bytes]], threads: int = 8) -> None:
    """Telegram's part, after the clock: each kept answer made in the sandbox's Bot API (a refusal ends the run)."""
    sandbox = urlsplit(sandbox_url)

    def make(index: int) -> None:
        telegram = http.client.HTTPConnection(sandbox.hostname, sandbox.port, timeout=60)
        for token, answer in answers[index::threads]:
            method = json.loads(answer)
            name = method.pop("method")
            status, made = _post(telegram, f"/bot{token}/{name}", json.dumps(method).encode(),
                                 {"Content-Type": "application/json"})
            if status != 200:
                raise RuntimeError(f"the webhook's answer {name} failed in the sandbox: {made[:200]!r}")

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(make, range(threads)))  # re-raises a thread's refusal here
    answers.clear()


def _post(conn: http.client.HTTPConnection, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
    """(status, body) of a POST on a keep-alive connection, reconnecting once."""
    try:
        conn.request("POST", path, body, headers)
        response = conn.getresponse()
    except (http.client.HTTPException, OSError):  # the server closed an idle keep-alive connection
        conn.close()
        conn.request("POST", path, body, headers)
        response = conn.getresponse()
    return response.status, response.read()


def rate(port: int, bots: list[tuple[int, str, str]], total: int, sandbox_url: str, clients: int = 8,
         warm: bool = False) -> float:
    """Updates/s for `total` updates from `clients` threads: every (bot, user) /start once when `warm`,
    else /start or /profile of a random returning member; the answers are made in the sandbox after the clock."""
    jobs = ([(bot, FIRST_USER + user, "/start") for user in range(USERS) for bot in bots] if warm else None)
    per_client = (len(jobs) if warm else total) // clients
    answers: list[tuple[str, bytes]] = []

    def work(index: int) -> None:
        client, rnd = Client(port, answers), random.Random(index)
        for n in range(per_client):
            if warm:
                bot, user, text = jobs[index * per_client + n]
            else:
                bot, user = rnd.choice(bots), FIRST_USER + rnd.randrange(USERS)
                text = rnd.choice(("/start", "/profile"))
            client.post(bot, update(user, text))

    per_second = common.threaded_rate(work, clients, per_client)
    make_answers(sandbox_url, answers)
    return per_second


def interleaved_rounds(bots, total: int, sandbox_url: str) -> dict[str, list[float]]:
    """Each server's rate in ROUNDS rounds, every round running each once, after a warm-up round.
    Botfleet's webhook answers are made in the sandbox (the bare route answers no Bot API method)."""
    runs: dict[str, list[float]] = {name: [] for name in PORTS}
    for port in PORTS.values():
        rate(port, bots, 0, sandbox_url, warm=True)
    for _ in range(ROUNDS):
        for name, port in PORTS.items():
            runs[name].append(rate(port, bots, total, sandbox_url))
    return runs


def replies_seen(sandbox_url: str) -> int:
    calls = requests.get(f"{sandbox_url}/sandbox/calls", timeout=60).json()["calls"]
    return sum(1 for c in calls if c["method"].lower() == "sendmessage" and not c.get("error_code"))


def run(total: int) -> list[common.Result]:
    key = Fernet.generate_key().decode()
    with sandbox_elsewhere() as sandbox_url, common.throwaway_database("bench_p2") as url:
        app = common.make_app(url, TOKEN_ENCRYPTION_KEY=key, TELEGRAM_API_URL=sandbox_url)
        with app.app_context():
            bots = seed(sandbox_url)
            from app.extensions import db
            db.session.remove()
            db.engine.dispose()
        servers = []
        try:
            servers.append(common.serve_gunicorn("wsgi:app", PORTS["botfleet"], {
                "GUNICORN_ACCESS_LOG": "", **production_env(url, sandbox_url, key)}))
            servers.append(common.serve_gunicorn("bench.p2_bare_app:app", PORTS["bare"],
                                                 {"GUNICORN_ACCESS_LOG": "", "RUNTIME_ENABLED": "0"}))
            runs = interleaved_rounds(bots, total, sandbox_url)
            posted = len(bots) * USERS + ROUNDS * (total // 8 * 8)
            replied = replies_seen(sandbox_url)
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
    rates = {name: statistics.median(values) for name, values in runs.items()}
    by_round = " / ".join(f"{ours / bare:.2f}" for ours, bare in zip(runs["botfleet"], runs["bare"], strict=True))
    return [common.report(common.Result(
        "P2.webhook", f"webhook updates/s under gunicorn 2×4 gthread, {BOTS} bots (/start, /profile)",
        rates["botfleet"], "req/s", rates["bare"], "bare Flask JSON route, same gunicorn", GOAL, 0,
        note=f"{replied:,} of {posted:,} updates answered in the sandbox "
             f"(their methods made there after each round's clock); rounds' ratios {by_round}"))]


def main() -> None:
    parser = common.parser(__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="updates per timed run")
    args = parser.parse_args()
    print(common.TABLE_HEADER)
    run(args.requests)


if __name__ == "__main__":
    main()
