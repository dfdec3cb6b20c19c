"""Telling a member something through their bot, by a message key the bot engine renders.

Jobs call `notify_member` after their transaction commits. The runtime that owns the bots installs
the real sender with `set_notifier`; until then the default only logs.
"""
from __future__ import annotations

import logging
from typing import Callable

log = logging.getLogger(__name__)

Notifier = Callable[..., None]


def _log_only(member, text_key: str, **params) -> None:
    log.info("notify member=%s key=%s params=%s (no bot sender installed)", member.id, text_key, params)


_notifier: Notifier = _log_only


def set_notifier(notifier: Notifier | None) -> None:
    """Install `notifier(member, text_key, **params)`; None restores the logging default."""
    global _notifier
    _notifier = notifier or _log_only


def notify_member(member, text_key: str, **params) -> None:
    """Send the message `text_key` to `member`; a failure is logged, never raised."""
    try:
        _notifier(member, text_key, **params)
    except Exception:
        log.exception("could not notify member %s (%s)", getattr(member, "id", "?"), text_key)
