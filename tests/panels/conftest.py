"""Panel fixtures: a sandbox serving the panel emulators over real HTTP, and a panel row per kind."""
from __future__ import annotations

import pytest
import requests

from app.services import clock
from bots.emulator import SandboxServer

# The conversation fixtures (a sandbox, real TeleBots, a shop) for the journey through the bot.
from tests.bots.conftest import compiled_catalogs, conversation_app, fleet, shop  # noqa: F401

#: The emulators' credentials (bots/emulator/panels) and what each kind's plan needs.
CREDENTIALS = {"marzban": {"username": "admin", "password": "admin"},
               "pasarguard": {"username": "admin", "password": "admin"},
               "remnawave": {"token": "sandbox-remnawave-token"},
               "xui": {"username": "admin", "password": "admin"}}
OPTIONS = {"marzban": {"proxies": {"vless": {}}, "inbounds": {"vless": ["VLESS_TCP"]}},
           "pasarguard": {"group_ids": [1]},
           "remnawave": {"squads": ["5ab2b5a7-2b1c-4e44-9d44-5b0f0e1d2c3a"]},
           "xui": {"inbound_id": 1}}
KINDS = list(CREDENTIALS)


class PanelSandbox:
    """The panel emulators' control API."""

    def __init__(self, url):
        self.url = url

    def base(self, kind):
        return f"{self.url}/panels/{kind}"

    def control(self, kind, action, body=None):
        if body is None:
            response = requests.get(f"{self.url}/sandbox/panels/{kind}/{action}", timeout=10)
        else:
            response = requests.post(f"{self.url}/sandbox/panels/{kind}/{action}", json=body, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def users(self, kind):
        return {u["username"]: u for u in self.control(kind, "users")["users"]}

    def faults(self, kind, **faults):
        return self.control(kind, "faults", faults)

    def usage(self, kind, username, used_bytes):
        return self.control(kind, "usage", {"username": username, "used_bytes": used_bytes})


@pytest.fixture(scope="module")
def panel_server():
    with SandboxServer() as server:
        yield server


@pytest.fixture
def panel_sandbox(panel_server):
    sandbox = PanelSandbox(panel_server.url)
    yield sandbox
    for kind in KINDS:
        sandbox.control(kind, "reset", {})


@pytest.fixture
def run_job(app, db):
    """run_job(job_id, at=aware datetime): one scheduled run, in its own context, at that instant."""
    from app.scheduler import run_now

    def run(job_id, at):
        with clock.frozen(at):
            run_now(app, job_id)
        db.session.expire_all()
    return run
