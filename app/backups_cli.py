"""`flask backup` and `flask restore`."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from app.extensions import db
from app.models.types import utcnow
from app.services import backups


@click.command("backup")
@click.option("--to", "target", help="A directory or s3://bucket/prefix (default: BACKUP_TARGET).")
@click.option("--no-prune", is_flag=True, help="Keep every older copy this time.")
@with_appcontext
def backup(target: str | None, no_prune: bool) -> None:
    """Write a compressed, encrypted copy of the whole database (BACKUP_ENCRYPTION_KEY)."""
    started = utcnow()
    url = db.engine.url.render_as_string(hide_password=False)
    try:
        result = backups.backup_now(current_app.config, url, target=target, prune=not no_prune)
    except backups.BackupFailed as err:
        backups.record_run(None, err.message, started)
        db.session.commit()
        raise click.ClickException(err.message) from None
    backups.record_run(result, None, started)
    db.session.commit()
    click.echo(f"Backup stored: {result.location} ({result.size_bytes:,} bytes)")
    for name in result.pruned:
        click.echo(f"Pruned: {name}")


@click.command("restore")
@click.argument("source")
@click.option("--into", "into_url", required=True, help="Database URL of an EMPTY database to restore into.")
@with_appcontext
def restore(source: str, into_url: str) -> None:
    """Restore a backup file (or s3://bucket/prefix/name) into an empty database."""
    try:
        backups.restore(current_app.config, source, into_url)
    except backups.BackupFailed as err:
        raise click.ClickException(err.message) from None
    click.echo("Restored. Point DATABASE_URL at it and run `flask db upgrade` if the code is newer.")
