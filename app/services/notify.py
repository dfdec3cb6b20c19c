"""Telling a member something through their bot, by a message key the bot engine renders.

`notify_member` writes a "telegram.notice" outbox row in the caller's transaction; the worker renders
it in the member's language and sends it through the bot they used last (bots/outbound.py) after the
transaction commits. A rolled-back change tells nobody.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime

from app.services import outbox

KIND = "telegram.notice"


def notify_member(member, text_key: str, *, once_key: str | None = None, **params):
    """Queue the message `text_key` for `member` (flush only); its OutboxMessage.

    :param once_key: an idempotency key when the same notice could be queued twice for one event
        (default: every call is its own message).
    :param params: the catalog's placeholders; ints and dates are formatted per language on delivery.
    """
    payload = {"member_id": member.id, "text_key": text_key,
               "params": {name: _plain(value) for name, value in params.items()}}
    key = f"notice:{once_key}" if once_key else f"notice:{member.id}:{uuid.uuid4().hex}"
    return outbox.enqueue(KIND, payload, tenant_id=member.tenant_id, key=key)


def _plain(value):
    """A JSON-storable param: datetimes and dates as ISO strings."""
    return value.isoformat() if isinstance(value, (datetime, date)) else value
