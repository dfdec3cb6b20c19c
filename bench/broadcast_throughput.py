"""Broadcast throughput against the sandbox at Telegram's rate (`per_second: 30` per bot): one bot, then ten bots
in parallel, with Telegram's limits enforced by Botfleet (30/s per bot, app/worker/ratelimit.py).

A throwaway Postgres database with the real migrations; one tenant whose members each started exactly one of the
bots; one broadcast to everyone; the in-process outbox pool delivers (QUEUE_URL unset). The clock runs from the
confirmation to the last recipient handled. Goals (issue 10): ≥ 95% of 30 msg/s for one bot, ≥ 95% of 300 msg/s
for ten bots, 0 lost, 0 duplicated (counted on the sandbox: every member's chat holds the message exactly once).

    .venv/bin/python -m bench.broadcast_throughput --per-bot 600
"""
from __future__ import annotations

import argparse
import time
from collections import Counter

import requests

from bench import common
from bench.p7_polling_bots import sandbox_elsewhere, wait_for

RATE = 30
TEXT = "Bench broadcast"


def seed(n_bots: int, per_bot: int, sandbox_url: str, offset: int):
    """A tenant with `n_bots` bots (sandbox rate 30/s each) and `per_bot` members on each; (tenant, bots, chats)."""
    from app.extensions import db
    from app.models import BotSession
    from app.services import bots, members, tenancy

    owner = tenancy.create_account(f"bench-b{offset}@example.com", "bench-password-42")
    tenant = tenancy.create_tenant(f"Broadcast bench {offset}", owner)
    http = requests.Session()
    rows, chats = [], {}
    for i in range(n_bots):
        tg_id = 8_000_000 + offset + i
        token = f"{tg_id}:bench-broadcast-{offset + i:05d}"
        http.post(f"{sandbox_url}/sandbox/bots", json={"token": token}, timeout=10).raise_for_status()
        http.post(f"{sandbox_url}/sandbox/rate-limit", json={"bot_id": tg_id, "per_second": RATE},
                  timeout=10).raise_for_status()
        bot = bots.create_bot(tenant, token, telegram_bot_id=tg_id, username=f"sandbox{tg_id}_bot")
        rows.append(bot)
        for n in range(per_bot):
            chat_id = 600_000_000 + (offset + i) * 100_000 + n
            member = members.create_member(tenant, chat_id)
            db.session.add(BotSession(tenant_id=tenant.id, member_id=member.id, bot_id=bot.id, session_data={},
                                      stats_data={}))
            http.post(f"{sandbox_url}/sandbox/chats", json={"chat_id": chat_id, "bot_id": tg_id},
                      timeout=10).raise_for_status()
            chats[chat_id] = tg_id
    db.session.commit()
    return tenant, rows, chats


def broadcast_rate(app, sandbox_url: str, n_bots: int, per_bot: int, offset: int) -> dict:
    """Seed, broadcast, deliver with the pool; msg/s overall, lost, duplicated, 429s seen."""
    from app.extensions import db
    from app.models import Broadcast
    from app.services import broadcasts
    from app.services.broadcasts import Draft
    from app.worker.pool import Pool

    tenant, bots, chats = seed(n_bots, per_bot, sandbox_url, offset)
    broadcast = broadcasts.compose(tenant, Draft(text=TEXT, bot_ids=[b.id for b in bots]))
    broadcasts.confirm(broadcast)
    pool = Pool(app).start()
    start = time.monotonic()
    db.session.commit()
    pool.kick([])

    def ended():
        db.session.rollback()
        return db.session.get(Broadcast, broadcast.id).status in ("done", "cancelled")
    try:
        wait_for(ended, 1800, poll=0.5)
        elapsed = time.monotonic() - start
    finally:
        pool.stop()
    done = db.session.get(Broadcast, broadcast.id)
    received = _received(sandbox_url, [b.telegram_bot_id for b in bots])
    return {"rate": done.sent_count / elapsed, "sent": done.sent_count, "seconds": elapsed,
            "lost": sum(1 for chat in chats if received[chat] == 0),
            "duplicated": sum(1 for chat in chats if received[chat] > 1),
            "failed": done.failed_count, "rate_limited": _throttled(sandbox_url, bots)}


def _received(sandbox_url: str, bot_ids: list[int]) -> Counter:
    calls = requests.get(f"{sandbox_url}/sandbox/calls", timeout=120).json()["calls"]
    return Counter(int(c["params"]["chat_id"]) for c in calls
                   if c["bot_id"] in bot_ids and c["method"].lower() == "sendmessage" and not c.get("error_code"))


def _throttled(sandbox_url: str, bots) -> int:
    ids = {b.telegram_bot_id for b in bots}
    calls = requests.get(f"{sandbox_url}/sandbox/calls", timeout=120).json()["calls"]
    return sum(1 for c in calls if c["bot_id"] in ids and c.get("error_code") == 429)


def results(measure: str, what: str, figures: dict, bots: int) -> list[common.Result]:
    """The rate against Telegram's (goal ≥ 95%), and the lost and duplicated recipients (goal 0 each)."""
    note = (f"{figures['sent']:,} sent in {figures['seconds']:.1f} s; failed {figures['failed']}, "
            f"sandbox 429s {figures['rate_limited']}")
    rate = common.Result(measure, what, figures["rate"], "msg/s", RATE * bots, f"Telegram's {RATE}/s × {bots}",
                         common.Goal(min_ratio=0.95), figures["sent"], note)
    return [rate] + [common.Result(f"{measure}.{name}", f"{what}: recipients {name}", figures[name], "members", None,
                                   "", common.Goal(max_value=0), figures["sent"]) for name in ("lost", "duplicated")]


def run(per_bot: int, many: int = 10, workers: int = 8) -> list[common.Result]:
    from flask_migrate import upgrade

    measured: list[common.Result] = []
    with sandbox_elsewhere() as sandbox_url, common.throwaway_database("bench_broadcast") as url:
        app = common.make_app(url, TELEGRAM_API_URL=sandbox_url, OUTBOX_WORKERS=workers, OUTBOX_POLL_SECONDS=0.2,
                              TELEGRAM_LIMIT_PER_BOT="30/second", TELEGRAM_LIMIT_PER_CHAT="1/second",
                              TELEGRAM_LIMIT_PER_GROUP="20/minute")
        with app.app_context():
            upgrade()
            one = broadcast_rate(app, sandbox_url, 1, per_bot, offset=0)
            rows = results("B1.broadcast.one_bot", f"1 bot × {per_bot:,} members", one, 1)
            ten = broadcast_rate(app, sandbox_url, many, per_bot, offset=100)
            rows += results(f"B1.broadcast.{many}_bots", f"{many} bots × {per_bot:,} members", ten, many)
            measured = [common.report(row) for row in rows]
            from app.extensions import db
            db.session.remove()
            db.engine.dispose()
    return measured


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--per-bot", type=int, default=600, help="members per bot (each gets the broadcast once)")
    p.add_argument("--bots", type=int, default=10, help="bots of the parallel run")
    p.add_argument("--workers", type=int, default=8, help="outbox pool threads (OUTBOX_WORKERS)")
    args = p.parse_args()
    print(common.TABLE_HEADER)
    run(args.per_bot, args.bots, args.workers)


if __name__ == "__main__":
    main()
