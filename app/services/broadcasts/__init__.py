"""Broadcasts: compose → count and preview → confirm → delivered through the outbox, at most once each.

- `compose` writes a draft (nothing is sent); `preview` shows what members of each language get and
  how many they are; `confirm` starts it: one `broadcast.pump` outbox row (app.services.broadcasts.pump)
  writes a delivery row per recipient in bounded batches, each with its own `broadcast.send` outbox row
  (bots/broadcast_outbound.py), keeping only a window of them queued at a time.
- `pause` holds it (queued sends become `held`), `resume` queues those again and continues the fan-out,
  `cancel` ends it. `progress` counts the delivery rows.
Services flush; the caller's unit of work commits and dispatches.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import Account, Bot, Broadcast, BroadcastDelivery, BroadcastStatus, DeliveryStatus, Tenant
from app.services import audit, clock, outbox
from app.services.broadcasts import segments
from app.services.broadcasts.segments import LANGUAGES, Segment
from app.services.errors import DomainError, NotFound
from app.services.locking import lock_row
from app.services.lookup import get_owned

PUMP = "broadcast.pump"
#: Telegram's limits: a message's text, a photo's caption.
TEXT_LIMIT, CAPTION_LIMIT = 4096, 1024
PHOTO_LIMIT_BYTES = 5 * 1024 * 1024
PHOTO_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
#: How far back the "rate" of the progress looks.
RATE_WINDOW = timedelta(seconds=30)


@dataclass
class Draft:
    """What the owner composed."""

    text: str
    bot_ids: list[int]
    segment: Segment = field(default_factory=Segment)
    texts: dict[str, str] = field(default_factory=dict)
    photo: bytes | None = None
    button_text: str | None = None
    button_url: str | None = None


def compose(tenant: Tenant, draft: Draft, by: Account | None = None) -> Broadcast:
    """Check and save a draft; nothing is sent before `confirm`."""
    bots = _bots(tenant, draft.bot_ids)
    texts = {lang: text.strip() for lang, text in (draft.texts or {}).items() if lang in LANGUAGES and text.strip()}
    _check_texts([draft.text.strip(), *texts.values()], bool(draft.photo))
    _check_photo(draft.photo)
    button_text, button_url = _check_button(draft.button_text, draft.button_url)
    broadcast = Broadcast(tenant_id=tenant.id, bot_id=bots[0].id, bot_ids=[b.id for b in bots],
                          segment=draft.segment.as_dict(), text=draft.text.strip(), texts=texts, photo=draft.photo,
                          button_text=button_text, button_url=button_url, created_by_account_id=by.id if by else None,
                          total_count=segments.count(tenant, draft.segment, [b.id for b in bots], clock.now()))
    db.session.add(broadcast)
    db.session.flush()
    audit.record(tenant.id, audit.actor_of(by), "broadcast.create", f"broadcast:{broadcast.id}",
                 recipients=broadcast.total_count)
    return broadcast


def _bots(tenant: Tenant, bot_ids: list[int]) -> list[Bot]:
    ids = sorted({int(i) for i in bot_ids or []})
    bots = list(db.session.scalars(sa.select(Bot).where(Bot.tenant_id == tenant.id, Bot.id.in_(ids),
                                                        Bot.is_active.is_(True)).order_by(Bot.id))) if ids else []
    if not bots or len(bots) != len(ids):
        raise DomainError(_l("Choose one or more of your active bots."))
    return bots


def _check_texts(texts: list[str], with_photo: bool) -> None:
    limit = CAPTION_LIMIT if with_photo else TEXT_LIMIT
    if not texts[0]:
        raise DomainError(_l("Write the message."))
    if any(len(text) > limit for text in texts):
        raise DomainError(_l("A message may have at most %(limit)s characters (%(caption)s under a photo).",
                             limit=TEXT_LIMIT, caption=CAPTION_LIMIT))


def _check_photo(photo: bytes | None) -> None:
    if photo is None:
        return
    if len(photo) > PHOTO_LIMIT_BYTES or not photo.startswith(PHOTO_MAGIC):
        raise DomainError(_l("The photo must be a PNG or JPEG image of at most 5 MB."))


def _check_button(text: str | None, url: str | None) -> tuple[str | None, str | None]:
    text, url = (text or "").strip() or None, (url or "").strip() or None
    if not text and not url:
        return None, None
    parts = urlsplit(url or "")
    if not text or len(text) > 64 or parts.scheme not in ("https", "http", "tg") or not (parts.netloc or parts.path):
        raise DomainError(_l("A button needs a label (at most 64 characters) and an https:// link."))
    return text, url


def get(tenant: Tenant, broadcast_id: int) -> Broadcast:
    """A broadcast of `tenant`; NotFound for another tenant's id as for a missing one."""
    return get_owned(Broadcast, tenant, broadcast_id, _l("There is no such broadcast."))


def list_broadcasts(tenant: Tenant, limit: int = 50) -> list[Broadcast]:
    return list(db.session.scalars(sa.select(Broadcast).where(Broadcast.tenant_id == tenant.id)
                                   .order_by(Broadcast.id.desc()).limit(limit)))


@dataclass(frozen=True)
class LanguagePreview:
    language: str
    text: str
    recipients: int


def preview(broadcast: Broadcast) -> list[LanguagePreview]:
    """The text members of each language receive, and how many of the recipients read that language."""
    tenant = db.session.get(Tenant, broadcast.tenant_id)
    counts = segments.count_by_language(tenant, Segment.from_dict(broadcast.segment), broadcast.bot_ids,
                                        clock.now())
    return [LanguagePreview(lang, broadcast.text_for(lang), counts.get(lang, 0)) for lang in LANGUAGES]


def confirm(broadcast: Broadcast, by: Account | None = None) -> Broadcast:
    """Start sending a draft (the second step): the recipients are the segment as of now."""
    broadcast = lock_row(Broadcast, broadcast.id)
    if broadcast.status != BroadcastStatus.DRAFT.value:
        raise DomainError(_l("This broadcast was already confirmed."))
    _bots(db.session.get(Tenant, broadcast.tenant_id), broadcast.bot_ids)
    now = clock.now()
    tenant = db.session.get(Tenant, broadcast.tenant_id)
    broadcast.total_count = segments.count(tenant, Segment.from_dict(broadcast.segment), broadcast.bot_ids, now)
    broadcast.status, broadcast.started_at = BroadcastStatus.SENDING.value, now
    _start_pump(broadcast)
    audit.record(broadcast.tenant_id, audit.actor_of(by), "broadcast.confirm", f"broadcast:{broadcast.id}",
                 recipients=broadcast.total_count)
    return broadcast


def _start_pump(broadcast: Broadcast) -> None:
    outbox.enqueue(PUMP, {"broadcast_id": broadcast.id, "generation": broadcast.generation},
                   tenant_id=broadcast.tenant_id, key=f"broadcast:{broadcast.id}:pump:{broadcast.generation}")


def pause(broadcast: Broadcast, by: Account | None = None) -> Broadcast:
    broadcast = _change(broadcast, (BroadcastStatus.SENDING,), BroadcastStatus.PAUSED)
    audit.record(broadcast.tenant_id, audit.actor_of(by), "broadcast.pause", f"broadcast:{broadcast.id}")
    return broadcast


def resume(broadcast: Broadcast, by: Account | None = None) -> Broadcast:
    """Continue a paused broadcast: a new pump (of a new generation) queues the held recipients again."""
    broadcast = _change(broadcast, (BroadcastStatus.PAUSED,), BroadcastStatus.SENDING)
    broadcast.generation += 1
    _start_pump(broadcast)
    audit.record(broadcast.tenant_id, audit.actor_of(by), "broadcast.resume", f"broadcast:{broadcast.id}")
    return broadcast


def cancel(broadcast: Broadcast, by: Account | None = None) -> Broadcast:
    """Stop for good: held recipients are cancelled now, queued ones when their send runs."""
    broadcast = _change(broadcast, (BroadcastStatus.DRAFT, BroadcastStatus.SENDING, BroadcastStatus.PAUSED),
                        BroadcastStatus.CANCELLED)
    db.session.execute(sa.update(BroadcastDelivery).where(
        BroadcastDelivery.broadcast_id == broadcast.id, BroadcastDelivery.status == DeliveryStatus.HELD.value)
        .values(status=DeliveryStatus.CANCELLED.value), execution_options={"synchronize_session": False})
    finish(broadcast, BroadcastStatus.CANCELLED)
    audit.record(broadcast.tenant_id, audit.actor_of(by), "broadcast.cancel", f"broadcast:{broadcast.id}")
    return broadcast


def _change(broadcast: Broadcast, allowed: tuple, to: BroadcastStatus) -> Broadcast:
    broadcast = lock_row(Broadcast, broadcast.id)
    if broadcast.status not in {s.value for s in allowed}:
        raise DomainError(_l("That cannot be done to this broadcast now."))
    broadcast.status = to.value
    return broadcast


def finish(broadcast: Broadcast, status: BroadcastStatus) -> None:
    """Close a broadcast (done or cancelled) with its final tallies."""
    counts = counts_of(broadcast.id)
    broadcast.status, broadcast.finished_at = status.value, clock.now()
    broadcast.sent_count = counts.get(DeliveryStatus.SENT.value, 0)
    broadcast.failed_count = counts.get(DeliveryStatus.FAILED.value, 0)
    broadcast.blocked_count = counts.get(DeliveryStatus.BLOCKED.value, 0)
    if broadcast.fanned_out:
        broadcast.total_count = sum(counts.values())


def counts_of(broadcast_id: int) -> dict[str, int]:
    rows = db.session.execute(sa.select(BroadcastDelivery.status, sa.func.count())
                              .where(BroadcastDelivery.broadcast_id == broadcast_id)
                              .group_by(BroadcastDelivery.status))
    return {status: n for status, n in rows}


def progress(broadcast: Broadcast) -> dict:
    """sent / failed / blocked / remaining, the percent done and the recent rate (messages per second)."""
    counts = counts_of(broadcast.id)
    sent, failed, blocked = (counts.get(s.value, 0) for s in
                             (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.BLOCKED))
    cancelled = counts.get(DeliveryStatus.CANCELLED.value, 0)
    total = sum(counts.values()) if broadcast.fanned_out else max(broadcast.total_count, sum(counts.values()))
    ended = broadcast.status in (BroadcastStatus.DONE.value, BroadcastStatus.CANCELLED.value)
    remaining = 0 if ended else max(total - sent - failed - blocked - cancelled, 0)
    handled = sent + failed + blocked
    recent = db.session.scalar(sa.select(sa.func.count()).where(
        BroadcastDelivery.broadcast_id == broadcast.id, BroadcastDelivery.sent_at >= clock.now() - RATE_WINDOW))
    return {"id": broadcast.id, "status": broadcast.status, "total": total, "sent": sent, "failed": failed,
            "blocked": blocked, "cancelled": cancelled, "remaining": remaining,
            "percent": 100 if broadcast.status == BroadcastStatus.DONE.value or not total
            else min(100, int(100 * handled / total)),
            "rate": round(recent / RATE_WINDOW.total_seconds(), 1)}
