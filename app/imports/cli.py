"""`flask import members`: move members in from another bot's data."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from app.extensions import db
from app.models import Bot, Tenant
from app.services import imports
from app.services.lookup import owned_row

import_group = AppGroup("import", help="Move data in from other bots.")


@import_group.command("members")
@click.option("--from", "source", type=click.Choice(imports.SOURCES), required=True)
@click.option("--source", "location", required=True,
              help="users-table / bedolaga: a database URL; users-json: a file path.")
@click.option("--tenant", "slug", required=True)
@click.option("--bot", "bot_id", type=int, help="The bot the members (and their sessions) are moved under.")
@click.option("--table", default="users", show_default=True, help="users-table: the table's name.")
@click.option("--dry-run", is_flag=True, help="Read and check everything, write nothing.")
def import_members(source: str, location: str, slug: str, bot_id: int | None, table: str, dry_run: bool) -> None:
    """Import members; a second run changes nothing. Prints a report."""
    tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise click.ClickException(f"No tenant with the slug {slug!r}.")
    bot = _bot(tenant, bot_id)
    total = _total(source, location, table)
    with click.progressbar(length=total or 0, label="Importing", show_pos=True, file=sys.stderr,
                           hidden=not total) as bar:
        checkpoint = (lambda n: bar.update(n)) if dry_run else (lambda n: (db.session.commit(), bar.update(n)))
        try:
            report = _run(source, tenant, location, table, bot, dry_run, checkpoint)
        except (sa.exc.SQLAlchemyError, OSError, ValueError) as err:
            db.session.rollback()
            raise click.ClickException(f"Import stopped, nothing after the last batch was written: {err}") from None
    db.session.rollback() if dry_run else db.session.commit()
    _print(report.as_dict())


def _run(source, tenant, location, table, bot, dry_run, checkpoint):
    if source == "users-table":
        return imports.import_users_table(tenant, location, table=table, bot=bot, dry_run=dry_run,
                                          checkpoint=checkpoint)
    if source == "bedolaga":
        return imports.import_bedolaga(tenant, location, bot=bot, dry_run=dry_run, checkpoint=checkpoint)
    document = imports.sources.load_json(Path(location).read_bytes())
    return imports.import_users_json(tenant, document, bot=bot, dry_run=dry_run, checkpoint=checkpoint)


def _bot(tenant: Tenant, bot_id: int | None) -> Bot | None:
    if bot_id is None:
        return None
    bot = owned_row(Bot, tenant, bot_id)
    if bot is None:
        raise click.ClickException(f"Tenant {tenant.slug} has no bot {bot_id}.")
    return bot


def _total(source: str, location: str, table: str) -> int | None:
    try:
        return imports.count_of(source, location, table)
    except (sa.exc.SQLAlchemyError, ValueError) as err:
        raise click.ClickException(f"Cannot read the source: {err}") from None


def _print(report: dict) -> None:
    problems = report.pop("problems")
    click.echo(("DRY RUN — nothing was written.\n" if report["dry_run"] else "")
               + json.dumps(report, ensure_ascii=False, indent=2))
    for problem in problems:
        click.echo(f"  - {problem}")
