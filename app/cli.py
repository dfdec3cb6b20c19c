"""Flask commands for operators: accounts, tenants, the demo data."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app import unit_of_work
from app.services import demo, tenancy
from app.services.errors import DomainError
from app.worker import dispatch


def init_app(app: Flask) -> None:
    for command in (create_account, create_tenant, seed_demo, serve, sandbox):
        app.cli.add_command(command)
    from app.api.cli import api_token
    from app.backups_cli import backup, restore
    from app.broadcasts.cli import broadcast_group
    from app.imports.cli import import_group
    from app.worker.cli import worker
    for command in (import_group, backup, restore, api_token, worker, broadcast_group):
        app.cli.add_command(command)
    from app.runtime.cli import COMMANDS as runtime_commands
    for command in runtime_commands:
        app.cli.add_command(command)


@click.command("create-account")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--platform-admin", is_flag=True, help="May manage every tenant.")
def create_account(email: str, password: str, platform_admin: bool) -> None:
    """Create a dashboard account."""
    account = _commit_or_fail(lambda: tenancy.create_account(email, password, platform_admin=platform_admin))
    click.echo(f"Created account {account.email} (id {account.id}).")


@click.command("create-tenant")
@click.option("--name", required=True)
@click.option("--owner-email", required=True, help="An existing account; it becomes the owner.")
def create_tenant(name: str, owner_email: str) -> None:
    """Create a tenant owned by an existing account."""
    def create():
        owner = tenancy.find_account(owner_email)
        if owner is None:
            raise DomainError(f"No account with the email {owner_email}; create it with `flask create-account`.")
        return tenancy.create_tenant(name, owner)
    tenant = _commit_or_fail(create)
    click.echo(f"Created tenant {tenant.name} (slug {tenant.slug}, id {tenant.id}).")


@click.command("seed-demo")
def seed_demo() -> None:
    """Create the demo tenant (once) and print its login."""
    if is_production(current_app):
        raise click.ClickException("seed-demo creates a login with a published password; it is refused in "
                                   "production. Create accounts with `flask create-account`.")
    created = _commit_or_fail(demo.seed)
    click.echo("Demo data created." if created else "Demo data already present; nothing changed.")
    click.echo(f"Sign in as {demo.DEMO_EMAIL} with the password {demo.DEMO_PASSWORD}")


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--sandbox/--no-sandbox", "with_sandbox", default=True,
              help="Serve the Telegram sandbox on SANDBOX_HOST:SANDBOX_PORT (default 127.0.0.1:8081).")
@click.option("--bots/--no-bots", "with_bots", default=True, help="Run every active bot (BOT_MODE).")
@with_appcontext
def serve(host: str, port: int, with_sandbox: bool, with_bots: bool) -> None:
    """Serve the dashboard, the sandbox and the bots in one process (gunicorn serves production)."""
    from app.devserver import serve_all

    if with_sandbox:
        refuse_sandbox_in_production(current_app)
    serve_all(current_app._get_current_object(), host, port, with_sandbox, with_bots)


@click.command("sandbox")
@click.option("--host", default=None, help="Default: SANDBOX_HOST (127.0.0.1).")
@click.option("--port", default=None, type=int, help="Default: SANDBOX_PORT (8081).")
@with_appcontext
def sandbox(host: str | None, port: int | None) -> None:
    """Serve the Telegram sandbox (Bot API emulator) alone, until Ctrl-C."""
    from bots.emulator import serve_forever

    refuse_sandbox_in_production(current_app)
    host, port = host or current_app.config["SANDBOX_HOST"], port or current_app.config["SANDBOX_PORT"]
    click.echo(f"Telegram sandbox on http://{host}:{port}")
    serve_forever(host, port)


def is_production(app: Flask) -> bool:
    return app.config.get("BOTFLEET_ENV") == "production"


def refuse_sandbox_in_production(app: Flask) -> None:
    """The sandbox's control API lets anyone who reaches it play any bot's users: not in production."""
    if is_production(app) and not app.config.get("SANDBOX_IN_PRODUCTION"):
        raise click.ClickException(
            "The Telegram sandbox has an unauthenticated control API and is refused in production. "
            "Use --no-sandbox, or set SANDBOX_IN_PRODUCTION=1 on a host nobody else can reach.")


def _commit_or_fail(operation):
    try:
        with dispatch.inline(current_app._get_current_object()):
            return unit_of_work.run(operation)
    except DomainError as err:
        raise click.ClickException(err.message) from None
