"""`flask api-token create`: a token for a tenant's integration, printed once (on the last line)."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from app.cli import _commit_or_fail
from app.extensions import db
from app.models import Tenant
from app.services import api_tokens


@click.group("api-token")
def api_token() -> None:
    """Integration API tokens (docs/api.md)."""


@api_token.command("create")
@click.option("--tenant", "slug", required=True, help="The tenant's slug.")
@click.option("--name", required=True, help="What the token is for, e.g. 'VPN panel'.")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(api_tokens.SCOPES),
              help="Repeat for several; none given means every scope.")
@with_appcontext
def create(slug: str, name: str, scopes: tuple[str, ...]) -> None:
    """Create a token; only its hash is kept, so copy it now."""
    tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise click.ClickException(f"No tenant with the slug {slug!r}.")
    token, plaintext = _commit_or_fail(lambda: api_tokens.create_token(tenant, name, list(scopes)))
    click.echo(f"Created API token {token.prefix}... for {tenant.slug} with scopes {', '.join(token.scopes)}.")
    click.echo("Copy it now; it is not shown again:")
    click.echo(plaintext)
