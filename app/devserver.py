"""`flask serve` (make run): the sandbox, the bots and the dashboard in one process, for trying Botfleet."""
from __future__ import annotations

import click
from flask import Flask
from werkzeug.serving import run_simple

from app.runtime import start_runtime
from app.services import demo
from bots.emulator import SandboxServer


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
    click.echo(f"Dashboard: http://{host}:{port}/login")
    click.echo(f"Demo login: {demo.DEMO_EMAIL} / {demo.DEMO_PASSWORD}")
    click.echo(f"Sandbox chat: http://{host}:{port}/sandbox")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if runtime is not None:
            runtime.stop()
        if sandbox is not None:
            sandbox.stop()
