"""Issue 10's deployment, for real: two web processes on two ports (as two hosts, RUNTIME_ENABLED=0), two
`flask worker` processes and one `flask runtime` on Redis, one Postgres database they share, the sandbox as
Telegram. The owner confirms a broadcast to 5 bots' members on host A and watches it on host B; one
worker is SIGKILLed midway. Every member gets the message exactly once (the sandbox's chats say so) and no
bot sends more than 30 messages in a second (the sandbox's timestamps say so). The one exception is proven per
member, not tolerated: the killed worker may lose the message of a send it had committed `sending` and not yet
finished (docs/broadcasts.md, "the one window left"): at most one per thread, each shown to be exactly that.

Issue 10's figures, 5 bots × 2,000 members (10,000 recipients, at least 67 s at 30/s per bot), are the default
(`make test` runs them): on 2026-12-01 it passed in 2 min 2 s at load 5.7-7.5 on the 2-core VM (8 min 6 s on
2026-11-30 at load 10-19, before helper 8's rate-limiter change, alongside two other test runs).
TWO_HOSTS_MEMBERS_PER_BOT=200 makes a short run.

Postgres-only by nature, it brings its own database, so it runs in the SQLite leg (`own_postgres`). Needs
Redis (TEST_REDIS_URL, default DB 1, a namespace of its own) and Postgres; in CI (CI=true) either missing fails.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet

from bots.emulator.chats import chat_for_id
from tests import pg
from tests.distributed import TRANSIT_ALLOWANCE, most_in_window, redis_namespace, unavailable
from tests.helpers import csrf_token
from tests.waiting import wait_until, wait_while_progressing

BOTS, MEMBERS_PER_BOT = 5, int(os.environ.get("TWO_HOSTS_MEMBERS_PER_BOT", "2000"))
RECIPIENTS = BOTS * MEMBERS_PER_BOT
#: A wait fails when the broadcast has not moved for this long (a killed worker's rows come back after the 10 s
#: lease), never on a fixed total: how long the whole takes scales with RECIPIENTS and the machine's rate.
STALL_SECONDS = 90
#: `flask worker --threads`: the killed worker can be in at most this many sends when the SIGKILL lands.
WORKER_THREADS = 4

# pytest.ini's 300 s is a backstop sized for the default; a bigger run gets one that grows with it.
pytestmark = [pytest.mark.slow, pytest.mark.own_postgres, pytest.mark.timeout(300 + RECIPIENTS // 10)]

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
TEXT = "One message, two hosts"
EMAIL, PASSWORD = "owner@two-hosts.example", "two-hosts-password-42"
FIRST_CHAT = 900_000_000


@pytest.fixture
def database():
    problem = pg.server_problem(pg.admin_url())
    if problem:
        unavailable("Postgres", pg.admin_url(), problem)
    with pg.fresh_database(f"botfleet_two_hosts_{uuid.uuid4().hex[:10]}") as url:
        yield url


@pytest.fixture
def namespace():
    yield from redis_namespace(REDIS_URL)


def test_two_hosts_two_workers_one_killed_every_member_once_within_30_per_second(database, namespace,
                                                                                 start_sandbox, tmp_path):
    sandbox = start_sandbox()
    env = _env(database, sandbox.url, namespace)
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    bots = _seed(database, env["TOKEN_ENCRYPTION_KEY"], sandbox)
    with Deployment(env, tmp_path) as deployment:
        host_a, host_b = deployment.web("a"), deployment.web("b")
        workers = [deployment.worker("1"), deployment.worker("2")]
        deployment.runtime()
        owner = _signed_in(host_a)
        broadcast_id = _confirm(owner, host_a, [bot["id"] for bot in bots])
        progress = lambda: owner.get(f"{host_b}/broadcasts/{broadcast_id}/progress").json()  # noqa: E731

        at_kill = wait_while_progressing(
            progress, lambda p: p["sent"] >= RECIPIENTS * 2 // 5, _step, STALL_SECONDS,
            message=f"{RECIPIENTS * 2 // 5} sent (host B's progress)\n{deployment.logs()}")
        killed_at = time.time()
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(10)
        final = wait_while_progressing(progress, lambda p: p["status"] == "done", _step, STALL_SECONDS,
                                       message=f"the broadcast done\n{deployment.logs()}")

    assert at_kill["sent"] < RECIPIENTS * 4 // 5, at_kill  # the kill was midway, with thousands still to send
    received = _bot_messages(sandbox, bots)
    counts = Counter(received.values())
    lost = sorted(chat for chat, n in received.items() if n == 0)
    assert len(received) == RECIPIENTS and set(counts) <= {0, 1}, f"messages per member: {counts}"
    _assert_lost_only_in_the_window(lost, sandbox, bots, database, broadcast_id, killed_at)
    assert (final["total"], final["sent"], final["failed"], final["blocked"]) == (RECIPIENTS, RECIPIENTS, 0, 0), final
    for bot in bots:
        sends = [c["at"] for c in sandbox.calls(bot["telegram_id"], "sendMessage") if not c["error_code"]]
        busiest = most_in_window(sends, 1.0 - TRANSIT_ALLOWANCE)
        assert len(sends) == MEMBERS_PER_BOT - sum(c in bot["chats"] for c in lost) and busiest <= 30, (
            bot, len(sends), busiest)


def _step(progress: dict) -> tuple:
    """What moves while the broadcast is being delivered (the wait fails when none of it has for STALL_SECONDS)."""
    return progress["status"], progress["sent"], progress["failed"], progress["blocked"]


def _assert_lost_only_in_the_window(lost: list[int], sandbox, bots, database: str, broadcast_id: int,
                                    killed_at: float) -> None:
    """A member with no message is allowed only as docs/broadcasts.md's one window: the killed worker had committed
    the delivery `sending` (so it is read as sent, "unconfirmed", and never sent again) and died before the
    request's last byte. Proven per member, not tolerated in bulk:
    - its delivery was left `sending` by a worker that never recorded Telegram's answer (now `sent`, unconfirmed);
    - the sandbox never got a whole sendMessage for that chat (no call logged, not even a refused one);
    - the sandbox did get all of one but its last byte, from a connection that went at or after the kill;
    - at most one such member per thread of the killed worker (each thread is in at most one send when killed)."""
    if not lost:
        return
    from app.services.broadcasts.sending import UNCONFIRMED
    engine = sa.create_engine(database)
    with engine.connect() as conn:
        rows = {row.chat_id: row for row in conn.execute(sa.text(
            "SELECT chat_id, status, error FROM broadcast_deliveries WHERE broadcast_id = :b AND chat_id IN :chats")
            .bindparams(sa.bindparam("chats", expanding=True)), {"b": broadcast_id, "chats": lost})}
    engine.dispose()
    bot_of = {chat: bot["telegram_id"] for bot in bots for chat in bot["chats"]}
    whole: dict[tuple[int, int], list] = {}  # (bot, chat) → the error codes of its whole sendMessage calls
    for bot in bots:
        for c in sandbox.calls(bot["telegram_id"], "sendMessage"):
            whole.setdefault((c["bot_id"], int((c.get("params") or {}).get("chat_id") or 0)), []).append(
                c["error_code"])
    cut_short = {(int(m.group(1)), int(c)) for entry in sandbox.server.cut_short if entry["at"] >= killed_at
                 and (m := re.match(r"/bot(\d+)/sendMessage$", entry["path"]))
                 for c in re.findall(rb'"chat_id":\s*(\d+)', entry["body"])[:1]}
    report = {chat: (rows.get(chat) and (rows[chat].status, rows[chat].error), whole.get((bot_of[chat], chat), []),
                     (bot_of[chat], chat) in cut_short) for chat in lost}
    assert len(lost) <= WORKER_THREADS, f"{len(lost)} members got nothing: {report}"
    for chat in lost:
        assert report[chat] == (("sent", UNCONFIRMED), [], True), (
            f"member {chat} got nothing, and not in the window between the `sending` commit and the last byte "
            f"((delivery status, error), error codes of whole requests logged (a refused one: [429]), cut short "
            f"after the kill): {report[chat]}")


def _env(database_url: str, sandbox_url: str, namespace: str) -> dict:
    return {**os.environ, "BOTFLEET_ENV": "production", "DATABASE_URL": database_url, "SECRET_KEY": "two-hosts",
            "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(), "TELEGRAM_API_URL": sandbox_url,
            "QUEUE_URL": REDIS_URL, "OUTBOX_QUEUE_NAMESPACE": namespace, "OUTBOX_QUEUE_NAME": namespace,
            # A killed worker's rows are handed out again after this; production keeps 60 s.
            "OUTBOX_LEASE_SECONDS": "10", "OUTBOX_POLL_SECONDS": "0.5", "RUNTIME_ENABLED": "0",
            "BOT_MODE": "polling", "BOT_POLL_TIMEOUT": "2", "GUNICORN_BIND": "127.0.0.1:0", "WEB_CONCURRENCY": "1",
            "GUNICORN_THREADS": "4", "GUNICORN_ACCESS_LOG": "", "LOGIN_RATE_LIMIT_ADDRESS": "1000 per minute"}


def _seed(database_url: str, key: str, sandbox) -> list[dict]:
    """The owner, a tenant with 5 bots and 10,000 members, each of whom started one of them (in turn, as people
    join over time); the sandbox lets each bot write to its members (registered in its state directly: 10,000
    control requests would take longer than the rest of the test)."""
    from app import create_app
    from app.extensions import db
    from app.models import BotSession, Member
    from app.services import bots as bot_service
    from app.services import tenancy
    from config import TestConfig

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, TOKEN_ENCRYPTION_KEY=key)
    chats = [FIRST_CHAT + n for n in range(RECIPIENTS)]
    with app.app_context():
        tenant = tenancy.create_tenant("Two hosts", tenancy.create_account(EMAIL, PASSWORD))
        bots = []
        for i in range(BOTS):
            tg_id = 8_100_000 + i
            token = f"{tg_id}:two-hosts-bot-{i}"
            sandbox.post("/sandbox/bots", {"token": token})
            bot = bot_service.create_bot(tenant, token, telegram_bot_id=tg_id, username=f"sandbox{tg_id}_bot")
            bots.append({"bot": bot, "telegram_id": tg_id, "chats": chats[i::BOTS]})
        db.session.flush()
        member_ids = db.session.scalars(sa.insert(Member).returning(Member.id, sort_by_parameter_order=True), [
            {"tenant_id": tenant.id, "telegram_id": chat, "referral_code": f"h{chat}", "language_code": "en"}
            for chat in chats]).all()
        db.session.execute(sa.insert(BotSession), [
            {"tenant_id": tenant.id, "member_id": member_id, "bot_id": bots[n % BOTS]["bot"].id, "session_data": {},
             "stats_data": {}} for n, member_id in enumerate(member_ids)])
        db.session.commit()
        for bot in bots:
            bot["id"] = bot.pop("bot").id
        db.session.remove()
        db.engine.dispose()
    state = sandbox.server.app.state
    with state.lock:
        for n, chat in enumerate(chats):
            state.make_reachable(8_100_000 + n % BOTS, chat_for_id(chat))
    return bots


class Browser:
    """The owner's browser. Production cookies are Secure and these "hosts" speak plain http:// (no TLS proxy in
    front), so every cookie is made plain after each answer; redirects after a POST are not followed."""

    def __init__(self):
        self.http = requests.Session()

    def get(self, url: str) -> requests.Response:
        return self._plain(self.http.get(url, timeout=30))

    def post(self, url: str, data: dict) -> requests.Response:
        return self._plain(self.http.post(url, data=data, timeout=60, allow_redirects=False))

    def _plain(self, response: requests.Response) -> requests.Response:
        for cookie in self.http.cookies:
            cookie.secure = False
        return response


def _signed_in(host: str) -> Browser:
    owner = Browser()
    page = owner.get(f"{host}/login")
    answer = owner.post(f"{host}/login", {"email": EMAIL, "password": PASSWORD, "csrf_token": _token(page.text)})
    assert answer.status_code == 302 and "/login" not in answer.headers["Location"], answer.text[:2000]
    return owner


def _confirm(owner: Browser, host: str, bot_ids: list[int]) -> int:
    """Compose (everyone, the 5 bots), then confirm on the preview page; the broadcast's id."""
    form = owner.get(f"{host}/broadcasts/new")
    composed = owner.post(f"{host}/broadcasts/new", {
        "csrf_token": _token(form.text), "bot_ids": bot_ids, "text": TEXT, "kind": "all", "language": "",
        "badge_has": "1"})
    match = re.search(r"/broadcasts/(\d+)$", composed.headers.get("Location", ""))
    assert composed.status_code == 302 and match, composed.text[:3000]
    preview = owner.get(f"{host}/broadcasts/{match.group(1)}")
    confirmed = owner.post(f"{host}/broadcasts/{match.group(1)}/confirm", {"csrf_token": _token(preview.text)})
    assert confirmed.status_code == 302, confirmed.text[:2000]
    return int(match.group(1))


def _token(html: str) -> str:
    return csrf_token(SimpleNamespace(get_data=lambda as_text: html))


def _bot_messages(sandbox, bots) -> dict[int, int]:
    """chat id → how many messages the bot wrote there, from the sandbox's chats."""
    state, received = sandbox.server.app.state, {}
    with state.lock:
        for bot in bots:
            chats = state.find_bot(bot["telegram_id"]).chats
            for chat in bot["chats"]:
                entries = chats[chat].log_entries() if chat in chats else []
                received[chat] = sum(1 for entry in entries if entry["from_bot"])
    return received


class Deployment:
    """The processes of the two "hosts", each logging to its own file; all stopped on the way out."""

    def __init__(self, env: dict, folder: Path):
        self.env, self.folder, self.processes = env, folder, {}

    def web(self, name: str) -> str:
        """A gunicorn (web only) on a port of its own; its base URL."""
        log = self._start(f"web-{name}", [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"])
        port = wait_until(lambda: re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log.read_text()), 60,
                          interval=0.2, message=f"gunicorn {name} listening\n{self.logs()}").group(1)
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(f"{base}/login"), 60, interval=0.2, message=f"web {name} up\n{self.logs()}")
        return base

    def worker(self, name: str) -> subprocess.Popen:
        self._start(f"worker-{name}", [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--threads",
                                       str(WORKER_THREADS)])
        return self.processes[f"worker-{name}"]

    def runtime(self) -> None:
        self._start("runtime", [sys.executable, "-m", "flask", "--app", "wsgi", "runtime"], RUNTIME_ENABLED="1")

    def logs(self, tail: int = 3000) -> str:
        return "\n".join(f"--- {name}\n{(self.folder / f'{name}.log').read_text()[-tail:]}" for name in self.processes)

    def _start(self, name: str, command: list[str], **extra) -> Path:
        path = self.folder / f"{name}.log"
        with open(path, "w") as log:
            self.processes[name] = subprocess.Popen(command, cwd=ROOT, env={**self.env, **extra}, stdout=log,
                                                    stderr=subprocess.STDOUT)
        return path

    def __enter__(self) -> Deployment:
        return self

    def __exit__(self, *exc_info) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False
