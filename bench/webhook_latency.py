"""W1: webhook updates/s with 100 ms of added Bot API latency, against the same without (issue 10: ≥ 0.8×).

The sandbox runs in its own process and delivers each bot's updates to the app's /tg/<bot_id> one after
another, as Telegram does; the app is the real one under gunicorn (`--workers` × `--threads`, web only: no
runtime, no queue), on a throwaway Postgres with the real migrations, with Telegram's send limits. Every user
sends /start; each update gets one reply. A round posts `--per-user` /starts for every user of every bot and
runs until every update is processed and every reply is in the sandbox. The measure (issue 10's "webhook
updates/s") is updates / (when the last update was stamped processed − the first post); the second row is
updates / (the last reply as the sandbox logged it − the first post), so replies that fall behind show. Rounds without and with `POST /sandbox/latency
{"ms": 100}` take turns (ABBA) (after an unmeasured round that creates the members); each figure is the median of
`--rounds`. Lost or duplicated replies are counted (goal 0).

    .venv/bin/python -m bench.webhook_latency --bots 20 --users 10 --per-user 3
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import sqlalchemy as sa

from bench import common
from bench.p7_polling_bots import sandbox_elsewhere, wait_for

ROOT = Path(__file__).resolve().parent.parent
PORT = 5210
LATENCY_MS = 100
GOAL = common.Goal(min_ratio=0.8)


def seed(n_bots: int, sandbox_url: str) -> list[dict]:
    """A tenant with `n_bots` bots known to the sandbox; each bot's ids, token and webhook secret."""
    from app.extensions import db
    from app.services import bots, tenancy

    owner = tenancy.create_account("bench-webhook@example.com", "bench-password-42")
    tenant = tenancy.create_tenant("Webhook bench", owner)
    http, made = requests.Session(), []
    for i in range(n_bots):
        tg_id, token = 8_500_000 + i, f"{8_500_000 + i}:bench-webhook-{i:05d}"
        http.post(f"{sandbox_url}/sandbox/bots", json={"token": token}, timeout=10).raise_for_status()
        bot = bots.create_bot(tenant, token, telegram_bot_id=tg_id, username=f"sandbox{tg_id}_bot")
        made.append({"id": bot.id, "tg_id": tg_id, "token": token, "secret": bot.webhook_secret})
    db.session.commit()
    return made


def serve(database_url: str, sandbox_url: str, token_key: str, workers: int, threads: int) -> subprocess.Popen:
    env = dict(os.environ, BENCH_DATABASE_URL=database_url, BENCH_SANDBOX_URL=sandbox_url, BENCH_TOKEN_KEY=token_key,
               GUNICORN_ACCESS_LOG="", RUNTIME_ENABLED="0")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads), "--worker-class",
         "gthread", "--bind", f"127.0.0.1:{PORT}", "--log-level", "warning", "bench.webhook_app:app"],
        cwd=ROOT, env=env)
    try:
        wait_for(lambda: _answers(f"http://127.0.0.1:{PORT}/healthz") or process.poll() is not None, 180)
    except TimeoutError:
        process.kill()
        raise
    if process.poll() is not None:
        raise RuntimeError(f"gunicorn exited with {process.returncode}")
    return process


def _answers(url: str) -> bool:
    try:
        requests.get(url, timeout=30)
        return True
    except requests.RequestException:
        return False


def set_webhooks(sandbox_url: str, bots: list[dict]) -> None:
    for bot in bots:
        requests.post(f"{sandbox_url}/bot{bot['token']}/setWebhook", timeout=10, data={
            "url": f"http://127.0.0.1:{PORT}/tg/{bot['id']}", "secret_token": bot["secret"],
            "max_connections": 40}).raise_for_status()


class Round:
    """One round of /starts: post them, wait until all are processed and answered, read the sandbox's log."""

    def __init__(self, sandbox_url: str, engine: sa.Engine, bots: list[dict], users: int):
        self.sandbox_url, self.engine, self.bots, self.users = sandbox_url, engine, bots, users
        self.http = requests.Session()
        self.posted = 0

    def run(self, per_user: int) -> dict:
        processed_before, sends_before = self._processed(), len(self._sends())
        started = time.time()
        updates = [(bot["tg_id"], 7_000_000 + bot["tg_id"] % 1000 * 1000 + user)
                   for _ in range(per_user) for bot in self.bots for user in range(self.users)]
        with ThreadPoolExecutor(4) as posting:
            list(posting.map(self._post, updates))
        expected = processed_before + len(updates)
        wait_for(lambda: self._processed() >= expected and not self._replies_waiting(), 600, poll=0.25)
        try:  # a reply made inline leaves after its update's commit
            wait_for(lambda: len(self._sends()) - sends_before >= len(updates), 30, poll=0.5)
        except TimeoutError:
            pass  # counted as lost below
        sends = self._sends()[sends_before:]
        chats = [int(call["params"]["chat_id"]) for call in sends]
        processed = self._last_processed_at() - started
        return {"rate": len(updates) / processed, "end_to_end": len(updates) / (max(c["at"] for c in sends) - started),
                "updates": len(updates),
                "replies": len(sends), "lost": max(0, len(updates) - len(sends)),
                "duplicated": max(0, len(sends) - len(updates)), "chats": len(set(chats))}

    def _post(self, update: tuple[int, int]) -> None:
        bot_id, user_id = update
        self.http.post(f"{self.sandbox_url}/sandbox/updates", timeout=30, json={
            "bot_id": bot_id, "from": {"id": user_id, "first_name": "Bench", "language_code": "en"},
            "text": "/start"}).raise_for_status()

    def _processed(self) -> int:
        with self.engine.connect() as conn:
            return conn.scalar(sa.text("SELECT count(*) FROM processed_updates"))

    def _last_processed_at(self) -> float:
        """When the last update's transaction stamped it processed (the webhook answers right after)."""
        with self.engine.connect() as conn:
            return conn.scalar(sa.text("SELECT max(processed_at) FROM processed_updates")).timestamp()

    def _replies_waiting(self) -> int:
        with self.engine.connect() as conn:
            return conn.scalar(sa.text("SELECT count(*) FROM outbox_messages WHERE status IN ('pending', 'sending')"))

    def _sends(self) -> list[dict]:
        calls = self.http.get(f"{self.sandbox_url}/sandbox/calls", timeout=120).json()["calls"]
        return [c for c in calls if c["method"].lower() == "sendmessage" and not c.get("error_code")]


def latency(sandbox_url: str, ms: int) -> None:
    requests.post(f"{sandbox_url}/sandbox/latency", json={"ms": ms}, timeout=10).raise_for_status()


def measure(rounds: Round, per_user: int, n: int) -> dict[str, list[dict]]:
    """`n` rounds without and with latency, taking turns (ABBA, so a machine that gets busier or quieter
    meanwhile moves both alike), after one unmeasured round."""
    rounds.run(1)
    runs: dict[str, list[dict]] = {"none": [], "latency": []}
    kinds = [("none", 0), ("latency", LATENCY_MS)]
    for turn in range(n):
        for name, ms in (kinds if turn % 2 == 0 else kinds[::-1]):
            latency(rounds.sandbox_url, ms)
            runs[name].append(rounds.run(per_user))
            print(f"# {name}: {runs[name][-1]}  load {os.getloadavg()[0]:.1f}", flush=True)
    latency(rounds.sandbox_url, 0)
    return runs


def results(runs: dict[str, list[dict]], args) -> list[common.Result]:
    base, value = (statistics.median(r["rate"] for r in runs[name]) for name in ("none", "latency"))
    base_e2e, e2e = (statistics.median(r["end_to_end"] for r in runs[name]) for name in ("none", "latency"))
    lost = sum(r["lost"] for rs in runs.values() for r in rs)
    duplicated = sum(r["duplicated"] for rs in runs.values() for r in rs)
    updates = runs["none"][0]["updates"]
    shape = (f"{args.bots} bots × {args.users} users × {args.per_user}; gunicorn {args.workers}×{args.threads}; "
             f"median of {args.rounds}")
    return [common.Result("W1.webhook_latency", f"webhook updates/s, {LATENCY_MS} ms Bot API latency", value,
                          "updates/s", base, "no latency", GOAL, updates, shape),
            common.Result("W1.webhook_latency.replied", f"updates/s until the last reply, {LATENCY_MS} ms latency",
                          e2e, "updates/s", base_e2e, "no latency", GOAL, updates,
                          "a /start's one reply is the webhook's answer, which the sandbox makes (bots/replies.py)"),
            common.Result("W1.webhook_latency.lost", "webhook replies lost (all rounds)", lost, "replies", None, "",
                          common.Goal(max_value=0), updates),
            common.Result("W1.webhook_latency.duplicated", "webhook replies duplicated (all rounds)", duplicated,
                          "replies", None, "", common.Goal(max_value=0), updates)]


def run(args) -> list[common.Result]:
    from cryptography.fernet import Fernet
    from flask_migrate import upgrade

    os.environ["SANDBOX_ALLOW_HTTP_WEBHOOKS"] = "1"
    token_key = Fernet.generate_key().decode()
    with sandbox_elsewhere() as sandbox_url, common.throwaway_database("bench_webhook") as url:
        app = common.make_app(url, TELEGRAM_API_URL=sandbox_url, TOKEN_ENCRYPTION_KEY=token_key)
        with app.app_context():
            upgrade()
            bots = seed(args.bots, sandbox_url)
            from app.extensions import db
            db.session.remove()
            db.engine.dispose()
        server = serve(url, sandbox_url, token_key, args.workers, args.threads)
        engine = sa.create_engine(url)
        try:
            set_webhooks(sandbox_url, bots)
            runs = measure(Round(sandbox_url, engine, bots, args.users), args.per_user, args.rounds)
        finally:
            server.terminate()
            server.wait(timeout=30)
            engine.dispose()
    return [common.report(row) for row in results(runs, args)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bots", type=int, default=20, help="bots (the sandbox delivers each bot's updates in turn)")
    p.add_argument("--users", type=int, default=10, help="users per bot")
    p.add_argument("--per-user", type=int, default=3, help="/starts per user per round")
    p.add_argument("--rounds", type=int, default=3, help="measured rounds of each kind")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    p.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    args = p.parse_args()
    print(common.TABLE_HEADER)
    run(args)


if __name__ == "__main__":
    main()
