"""`flask serve` (make run): the sandbox, the bots and the dashboard in one process, for trying Botfleet."""
from __future__ import annotations

import logging
from pathlib import Path

import click
from flask import Flask
from werkzeug.serving import run_simple

from app.runtime import start_runtime
from app.services import demo
from bots.emulator import SandboxServer


def access_log_to_file(app: Flask) -> Path:
    """Werkzeug's request lines go to instance/access.log, so the terminal keeps the logins in view."""
    path = Path(app.instance_path) / "access.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    werkzeug_log = logging.getLogger("werkzeug")
    werkzeug_log.handlers[:] = [handler]
    werkzeug_log.setLevel(logging.INFO)
    werkzeug_log.propagate = False
    return path


def login_box(lines: list[str]) -> str:
    """The lines framed in a box, printed last so they are what the terminal shows."""
    width = max(len(line) for line in lines)
    border = "+" + "-" * (width + 2) + "+"
    return "\n".join([border, *(f"| {line.ljust(width)} |" for line in lines), border])


def serve_all(app: Flask, host: str, port: int, with_sandbox: bool = True, with_bots: bool = True) -> None:
    """Start the sandbox and the runtime in threads, then serve the dashboard until Ctrl-C."""
    sandbox = None
    if with_sandbox:
        sandbox = SandboxServer(app.config["SANDBOX_HOST"], app.config["SANDBOX_PORT"]).start()
        if app.config["SANDBOX_PORT"] == 0:  # an ephemeral port: the bots must be told which one
            app.config["TELEGRAM_API_URL"] = sandbox.url
        click.echo(f"Telegram sandbox: {sandbox.url} (bots talk to {app.config['TELEGRAM_API_URL']})")
    runtime = start_runtime(app) if with_bots else None
    if runtime is not None:
        click.echo(f"Bots and jobs: started by the runtime; bots run in {app.config['BOT_MODE']} mode")
    log_file = access_log_to_file(app)
    click.echo(login_box([
        f"Dashboard:    http://{host}:{port}/login",
        f"Demo login:   {demo.DEMO_EMAIL} / {demo.DEMO_PASSWORD}",
        "              (also a platform admin: Platform admin in the menu)",
        f"Sandbox chat: http://{host}:{port}/sandbox",
        f"Access log:   {log_file}",
    ]))
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if runtime is not None:
            runtime.stop()
        if sandbox is not None:
            sandbox.stop()
