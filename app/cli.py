"""Flask commands for operators: accounts, tenants, the demo data."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.extensions import db
from app.services import demo, tenancy
from app.services.errors import DomainError


def init_app(app: Flask) -> None:
    for command in (create_account, create_tenant, seed_demo, serve):
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
    created = _commit_or_fail(demo.seed)
    click.echo("Demo data created." if created else "Demo data already present; nothing changed.")
    click.echo(f"Sign in as {demo.DEMO_EMAIL} with the password {demo.DEMO_PASSWORD}")


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@with_appcontext
def serve(host: str, port: int) -> None:
    """Serve the dashboard for development and trying Botfleet (gunicorn serves production)."""
    from werkzeug.serving import run_simple

    run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False)


def _commit_or_fail(operation):
    try:
        result = operation()
        db.session.commit()
        return result
    except DomainError as err:
        db.session.rollback()
        raise click.ClickException(err.message) from None
