"""API: requests/s of GET /api/v1/members/{id} and POST .../quota/consume under gunicorn, against a bare Flask
route doing one indexed SELECT on the same database (issue 11's goals: ≥ 0.5× and ≥ 0.3×).

A throwaway Postgres database gets the migrations, a tenant of `--members` members (set-based insert), a bot
and an API token. Both apps run under gunicorn with the same workers × threads on ports 5901/5902 (`--ports`
or BENCH_API_PORTS="API,BARE" to run beside another bench); a pool of
client threads with keep-alive sends a fixed number of requests to random members (so quota consumes do not
queue on one row) and the rate is requests / wall time, the median of 3 runs after a warm-up. The three
measures take turns run by run, so a machine that gets busier or quieter meanwhile moves all of them alike.
"""
from __future__ import annotations

import os
import random
import statistics
import subprocess

import requests
import sqlalchemy as sa

from bench import common

DEFAULT_PORTS = os.environ.get("BENCH_API_PORTS", "5901,5902")
GOALS = {"get_member": common.Goal(min_ratio=0.5), "quota_consume": common.Goal(min_ratio=0.3)}


def seed(members: int) -> dict:
    from flask_migrate import upgrade

    from app.extensions import db
    from app.models import Member
    from app.services import api_tokens, bots, settings, tenancy

    upgrade()
    owner = tenancy.create_account("bench-api@example.com", "bench-password-1")
    tenant = tenancy.create_tenant("Bench API", owner)
    settings.update(tenant, {"daily_quota_free": 1_000_000}, by="system")
    bot = bots.create_bot(tenant, "5999999:bench-token-api", telegram_bot_id=5999999, username="bench_api_bot")
    db.session.execute(sa.insert(Member), [{"tenant_id": tenant.id, "telegram_id": 20_000_000 + i,
                                            "referral_code": f"a{i}"} for i in range(members)])
    _, token = api_tokens.create_token(tenant, "bench")
    db.session.commit()
    return {"tenant": tenant.id, "bot": bot.id, "token": token, "members": members}


def serve(target: str, port: int, database_url: str) -> subprocess.Popen:
    return common.serve_gunicorn(target, port, {"DATABASE_URL": database_url, "BOTFLEET_ENV": "testing",
                                                "RUNTIME_ENABLED": "0", "API_RATE_LIMIT": "1000000 per minute"})


def rate(send, total: int, clients: int = 8) -> float:
    """requests/s for `total` calls of send(session, n) from `clients` threads."""
    per_client = total // clients

    def work(seed_value):
        session, rnd = requests.Session(), random.Random(seed_value)
        for _ in range(per_client):
            response = send(session, rnd)
            if response.status_code >= 400:
                raise RuntimeError(f"{response.status_code}: {response.text[:200]}")

    return common.threaded_rate(work, clients, per_client)


def interleaved_medians(sends: dict, total: int) -> dict[str, float]:
    """The median rate of each send over 3 rounds, every round running each once (after one warm-up round)."""
    runs: dict[str, list[float]] = {name: [] for name in sends}
    for round_number in range(4):
        for name, send in sends.items():
            measured = rate(send, total if round_number else total // 4)
            if round_number:
                runs[name].append(measured)
    return {name: statistics.median(values) for name, values in runs.items()}


def measure(world: dict, total: int, ports: tuple[int, int]) -> list[common.Result]:
    api, bare = f"http://127.0.0.1:{ports[0]}/api/v1", f"http://127.0.0.1:{ports[1]}"
    headers = {"Authorization": f"Bearer {world['token']}"}
    telegram_id = lambda rnd: 20_000_000 + rnd.randrange(world["members"])  # noqa: E731
    rates = interleaved_medians({
        "baseline": lambda s, r: s.get(f"{bare}/members/{world['tenant']}/{telegram_id(r)}", timeout=30),
        "get_member": lambda s, r: s.get(f"{api}/members/{telegram_id(r)}", headers=headers, timeout=30),
        "consume": lambda s, r: s.post(f"{api}/members/{telegram_id(r)}/quota/consume", headers=headers,
                                       json={"bot_id": world["bot"], "count": 1}, timeout=30),
    }, total)
    baseline, get_member, consume = rates["baseline"], rates["get_member"], rates["consume"]
    base_what = "bare Flask route, one indexed SELECT"
    return [common.Result("API.get_member", "GET /api/v1/members/{id} under gunicorn", get_member, "req/s",
                          baseline, base_what, GOALS["get_member"], world["members"]),
            common.Result("API.quota_consume", "POST /api/v1/members/{id}/quota/consume under gunicorn", consume,
                          "req/s", baseline, base_what, GOALS["quota_consume"], world["members"])]


def main() -> None:
    parser = common.parser(__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per timed run")
    parser.add_argument("--ports", default=DEFAULT_PORTS, help="API,BARE: the two gunicorn ports (default %(default)s)")
    args = parser.parse_args()
    ports = tuple(int(port) for port in args.ports.split(","))
    with common.throwaway_database("bench_api") as url:
        app = common.make_app(url)
        with app.app_context():
            world = seed(min(args.members, 100_000))
            from app.extensions import db
            db.session.remove()
            db.engine.dispose()
        servers = []
        try:
            servers.append(serve("wsgi:app", ports[0], url))
            servers.append(serve("bench.api_bare_app:app", ports[1], url))
            for result in measure(world, args.requests, ports):
                common.report(result)
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)


if __name__ == "__main__":
    main()
