"""What every bench script shares: arguments, a throwaway seeded Postgres database, timing, the result row.

A result is printed twice: a JSON line (prefix ``BENCH``) for machines and a Markdown table row for
docs/performance.md. Each carries the measured value, its baseline measured in the same run, the
ratio value/baseline, the goal and whether the goal is met.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

QUICK_MEMBERS = 10_000
FULL_MEMBERS = 1_000_000
ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class Goal:
    """Bounds a result must meet; None means not bounded that way."""

    max_value: float | None = None
    min_value: float | None = None
    max_ratio: float | None = None
    min_ratio: float | None = None

    def met(self, value: float, ratio: float | None) -> bool:
        checks = [self.max_value is None or value <= self.max_value,
                  self.min_value is None or value >= self.min_value]
        if ratio is not None:
            checks += [self.max_ratio is None or ratio <= self.max_ratio,
                       self.min_ratio is None or ratio >= self.min_ratio]
        return all(checks)

    def text(self, unit: str) -> str:
        parts = [f"≤ {_fmt(self.max_value)} {unit}" if self.max_value is not None else "",
                 f"≥ {_fmt(self.min_value)} {unit}" if self.min_value is not None else "",
                 f"≤ {_fmt(self.max_ratio)}×" if self.max_ratio is not None else "",
                 f"≥ {_fmt(self.min_ratio)}×" if self.min_ratio is not None else ""]
        return " and ".join(p for p in parts if p)


@dataclass
class Result:
    measure: str          # e.g. "P3.member_search.username"
    what: str             # one line a reader understands
    value: float
    unit: str
    baseline: float | None
    baseline_what: str
    goal: Goal
    members: int
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return None if not self.baseline else self.value / self.baseline

    @property
    def passed(self) -> bool:
        return self.goal.met(self.value, self.ratio)

    def as_json(self) -> str:
        data = asdict(self)
        data.update(goal=self.goal.text(self.unit), ratio=self.ratio, passed=self.passed)
        return json.dumps(data, ensure_ascii=False)

    def as_row(self) -> str:
        baseline = "–" if self.baseline is None else f"{_fmt(self.baseline)} {self.unit} ({self.baseline_what})"
        ratio = "–" if self.ratio is None else f"{self.ratio:.2f}×"
        verdict = "pass" if self.passed else "**BELOW GOAL**"
        return (f"| {self.measure} | {self.what} | {_fmt(self.value)} {self.unit} | {baseline} | {ratio} | "
                f"{self.goal.text(self.unit)} | {verdict} |" + (f" {self.note}" if self.note else ""))


TABLE_HEADER = ("| # | what | measured | baseline (same run) | ratio | goal | verdict |\n"
                "|---|---|---|---|---|---|---|")


def report(result: Result) -> Result:
    print("BENCH " + result.as_json(), flush=True)
    print(result.as_row(), flush=True)
    return result


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"


def median_ms(call: Callable[[], object], runs: int = 3, warmup: int = 1) -> float:
    """The median wall time of `call` in milliseconds, after `warmup` unmeasured calls."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def parser(description: str) -> argparse.ArgumentParser:
    """The arguments every script takes."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--members", type=int, default=int(os.environ.get("BENCH_MEMBERS", QUICK_MEMBERS)),
                   help=f"members of the big tenant (quick {QUICK_MEMBERS:,}, full {FULL_MEMBERS:,})")
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                   help="an already seeded bench database to reuse (kept); default: a throwaway one")
    return p


@contextlib.contextmanager
def throwaway_database(prefix: str = "bench") -> Iterator[str]:
    """A new empty Postgres database (synchronous_commit off, as the tests use); dropped afterwards. Its name starts
    with BENCH_DATABASE_PREFIX when set (e.g. a name space of one's own on a shared server)."""
    import psycopg2
    from sqlalchemy.engine import make_url

    name = f"{os.environ.get('BENCH_DATABASE_PREFIX', '')}{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = make_url(ADMIN_URL)

    def run(sql: str) -> None:
        conn = psycopg2.connect(host=admin.host, port=admin.port, user=admin.username, password=admin.password,
                                dbname=admin.database)
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(sql)
        conn.close()

    run(f'CREATE DATABASE "{name}"')
    run(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    try:
        yield admin.set(drivername="postgresql+psycopg2", database=name).render_as_string(hide_password=False)
    finally:
        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_app(database_url: str, **overrides):
    """The real app (test config: fixed secrets, no CSRF so scripts can post forms) on `database_url`."""
    from app import create_app
    from config import TestConfig

    return create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, WTF_CSRF_ENABLED=False,
                      RUNTIME_ENABLED=False, **overrides)


@contextlib.contextmanager
def seeded_app(args, **overrides) -> Iterator[tuple[object, object]]:
    """The app on a database holding a big tenant of `args.members` and a small one (the baseline)."""
    from bench import seed

    if args.database_url:
        app = make_app(args.database_url, **overrides)
        with app.app_context():
            yield app, seed.find_world()
        return
    with throwaway_database() as url:
        app = make_app(url, **overrides)
        with app.app_context():
            world = seed.migrate_and_seed(args.members)
            yield app, world
            from app.extensions import db
            db.session.remove()
            db.engine.dispose()



def serve_gunicorn(target: str, port: int, env: dict) -> subprocess.Popen:
    """`target` under gunicorn with the project's gunicorn.conf.py, BENCH_WORKERS (2) workers × 4 threads
    (gthread), once it answers /healthz; `env` is added to this process's environment."""
    import requests

    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", os.environ.get("BENCH_WORKERS", "2"), "--threads", "4",
         "--worker-class", "gthread", "--bind", f"127.0.0.1:{port}", "--log-level", "warning", target],
        cwd=ROOT, env={**os.environ, **env})
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=30)
            return process
        except (requests.ConnectionError, requests.Timeout):
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn {target} exited with {process.returncode}")
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"gunicorn {target} did not answer on {port}")


def threaded_rate(work: Callable[[int], object], clients: int, per_client: int) -> float:
    """Calls/s of `clients` threads each running work(index), which makes `per_client` calls."""
    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return per_client * clients / (time.perf_counter() - start)
