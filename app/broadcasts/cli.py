"""`flask broadcast send|status|list|pause|resume|cancel`: broadcasts for operators, the same service as the page."""
from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from flask_babel import force_locale

from app import unit_of_work
from app.extensions import db
from app.models import Broadcast, Tenant
from app.services import broadcasts
from app.services.broadcasts import Draft
from app.services.broadcasts.segments import KINDS, LANGUAGES, Segment
from app.services.errors import DomainError

broadcast_group = AppGroup("broadcast", help="Send a message to a segment of a tenant's members.")

_DAY = click.DateTime(formats=["%Y-%m-%d"])


def _day(value: datetime | None):
    return value.date() if value else None


@broadcast_group.command("send")
@click.option("--tenant", "slug", required=True)
@click.option("--bot", "bot_ids", type=int, multiple=True, required=True, help="A bot id; repeat for several.")
@click.option("--segment", "kind", type=click.Choice(KINDS), default="all", show_default=True)
@click.option("--days", type=int, help="--segment expired: ended within this many days.")
@click.option("--language", type=click.Choice(LANGUAGES))
@click.option("--joined-from", type=_DAY)
@click.option("--joined-to", type=_DAY)
@click.option("--badge", help="Only members with this badge code (with --without-badge: without it).")
@click.option("--without-badge", is_flag=True)
@click.option("--text", required=True, help="The message (every language without its own text).")
@click.option("--text-fa")
@click.option("--text-en")
@click.option("--text-ru")
@click.option("--photo", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--button-text")
@click.option("--button-url")
@click.option("--yes", is_flag=True, help="Confirm without asking.")
def send(slug, bot_ids, kind, days, language, joined_from, joined_to, badge, without_badge, text, text_fa,
         text_en, text_ru, photo, button_text, button_url, yes) -> None:
    """Compose a broadcast, show the recipients per language, and confirm it (a worker delivers it)."""
    tenant = _tenant(slug)
    segment = _guarded(lambda: Segment(kind=kind, days=days, language=language, joined_from=_day(joined_from),
                                       joined_to=_day(joined_to), badge=badge, badge_has=not without_badge))
    draft = Draft(text=text, bot_ids=list(bot_ids), segment=segment, photo=photo.read_bytes() if photo else None,
                  texts={"fa": text_fa or "", "en": text_en or "", "ru": text_ru or ""},
                  button_text=button_text, button_url=button_url)
    broadcast = _guarded(lambda: unit_of_work.run(lambda: broadcasts.compose(tenant, draft)))
    click.echo(f"Broadcast {broadcast.id}: {broadcast.total_count} recipients.")
    for shown in broadcasts.preview(broadcast):
        click.echo(f"  [{shown.language}] {shown.recipients} recipients: {shown.text}")
    if not yes and not click.confirm("Send it?"):
        click.echo(f"Not sent; broadcast {broadcast.id} stays a draft.")
        return
    _guarded(lambda: unit_of_work.run(lambda: broadcasts.confirm(broadcast)))
    click.echo(f"Confirmed. A worker (the runtime's pool or `flask worker`) delivers it; "
               f"follow it with `flask broadcast status {broadcast.id}`.")


@broadcast_group.command("status")
@click.argument("broadcast_id", type=int)
@click.option("--watch", is_flag=True, help="Print again every 2 s until it ends.")
def status(broadcast_id: int, watch: bool) -> None:
    """Progress as JSON: sent / failed / blocked / remaining, percent, rate."""
    while True:
        db.session.expire_all()
        click.echo(json.dumps(broadcasts.progress(_broadcast(broadcast_id))))
        db.session.rollback()
        if not watch or _broadcast(broadcast_id).status in ("done", "cancelled", "draft"):
            return
        time.sleep(2)


@broadcast_group.command("list")
@click.option("--tenant", "slug", required=True)
def list_(slug: str) -> None:
    """The tenant's broadcasts, newest first."""
    for broadcast in broadcasts.list_broadcasts(_tenant(slug)):
        click.echo(f"{broadcast.id}\t{broadcast.status}\t{broadcast.total_count}\t{broadcast.created_at:%Y-%m-%d %H:%M}"
                   f"\t{broadcast.text[:40]!r}")


def _change_command(name: str, operation):
    @broadcast_group.command(name)
    @click.argument("broadcast_id", type=int)
    def command(broadcast_id: int) -> None:
        done = _guarded(lambda: unit_of_work.run(lambda: operation(_broadcast(broadcast_id))))
        click.echo(f"Broadcast {done.id}: {done.status}.")
    command.__doc__ = f"{name.capitalize()} a broadcast."
    return command


pause = _change_command("pause", broadcasts.pause)
resume = _change_command("resume", broadcasts.resume)
cancel = _change_command("cancel", broadcasts.cancel)


def _tenant(slug: str) -> Tenant:
    tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise click.ClickException(f"No tenant with the slug {slug!r}.")
    return tenant


def _broadcast(broadcast_id: int) -> Broadcast:
    broadcast = db.session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise click.ClickException(f"No broadcast {broadcast_id}.")
    return broadcast


def _guarded(operation):
    """Run `operation`; a refusal becomes a command-line error (in English)."""
    try:
        return operation()
    except DomainError as err:
        with force_locale("en"):
            raise click.ClickException(str(err.message)) from None
