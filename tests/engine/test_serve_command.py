"""`flask serve` starts the sandbox, the bots and the dashboard in one process; `flask sandbox` serves the sandbox."""
import pytest

from app import devserver
from app.models import Bot
from app.runtime import Runtime
from app.services import demo
from tests.engine.conftest import Sandbox, engine_pointed_at


@pytest.fixture
def serve_config(app, db):
    """Ephemeral sandbox port and the stand-in handlers; the app's settings restored afterwards."""
    with engine_pointed_at(app, app.config["TELEGRAM_API_URL"]):
        saved = app.config["SANDBOX_PORT"]
        app.config["SANDBOX_PORT"] = 0
        yield app
        app.config["SANDBOX_PORT"] = saved


def test_serve_runs_the_sandbox_the_demo_bot_and_the_dashboard(runner, serve_config, db, monkeypatch):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    seen = {}

    def fake_run_simple(host, port, app, **kwargs):
        """Instead of serving the dashboard: talk to the demo bot through the sandbox."""
        sandbox = Sandbox(app.config["TELEGRAM_API_URL"])
        sandbox.post("/sandbox/bots", {"token": demo.DEMO_BOT_TOKEN})
        sandbox.say(7000001, 31337, "/start")
        demo_bot = db.session.scalar(db.select(Bot))
        seen["reply"] = sandbox.wait_for_reply(7000001, 31337)
        seen["runtime"] = next(iter(runtimes))
        seen["where"] = (host, port, kwargs.get("threaded"))
        assert demo_bot.username == "sandbox7000001_bot"
    runtimes = []
    real_start = devserver.start_runtime
    monkeypatch.setattr(devserver, "start_runtime", lambda app: runtimes.append(real_start(app)) or runtimes[-1])
    monkeypatch.setattr(devserver, "run_simple", fake_run_simple)
    result = runner.invoke(args=["serve", "--port", "5055"])
    assert result.exit_code == 0, result.output
    assert seen["reply"] and seen["where"] == ("127.0.0.1", 5055, True)
    assert isinstance(seen["runtime"], Runtime)
    assert not seen["runtime"].is_leader  # stopped and stepped down on the way out
    for line in (demo.DEMO_EMAIL, demo.DEMO_PASSWORD, "http://127.0.0.1:5055/sandbox", "Telegram sandbox: http://"):
        assert line in result.output


def test_the_sandbox_command_serves_on_the_configured_address(runner, app, monkeypatch):
    import bots.emulator

    calls = []
    monkeypatch.setattr(bots.emulator, "serve_forever", lambda host, port: calls.append((host, port)))
    result = runner.invoke(args=["sandbox"])
    assert result.exit_code == 0, result.output
    assert calls == [(app.config["SANDBOX_HOST"], app.config["SANDBOX_PORT"])]
    assert runner.invoke(args=["sandbox", "--port", "9999"]).exit_code == 0
    assert calls[-1][1] == 9999
