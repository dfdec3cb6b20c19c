"""Replies to the update being handled: sent right after its transaction commits, never inside it.

A handler's `ctx.send`, button answers and edits of the pressed message are queued here while the
update's transaction runs (row locks may be held); the middleware sends them in order once the commit
succeeded, and drops them when it rolled back. A 429 or an unreachable Telegram does not hold the
thread: the calls not yet made become one `telegram.calls` outbox row (due after retry_after) and the
update ends. Outside an update (no buffer open) a call is made at once.
"""
from __future__ import annotations

import contextvars
import uuid

from app import redaction
from app.services import outbox
from app.unit_of_work import unit_of_work
from bots import outbound

log = redaction.get_logger(__name__)

_buffer: contextvars.ContextVar[list | None] = contextvars.ContextVar("botfleet_replies", default=None)


def open_buffer() -> contextvars.Token:
    return _buffer.set([])


def close_buffer(token: contextvars.Token) -> list[dict]:
    """Stop buffering; the calls queued meanwhile."""
    calls = _buffer.get() or []
    _buffer.reset(token)
    return calls


def call(telebot, method: str, **params) -> None:
    """Make the Bot API call `method` (a TeleBot method name) after the update commits."""
    queued = outbound.bot_call(method, **params)
    buffer = _buffer.get()
    if buffer is None:
        outbound.perform(telebot, queued)
    else:
        buffer.append(queued)


def send_after_commit(telebot, calls: list[dict], update_id: int | None) -> None:
    """Make the queued calls in order; on a 429 or a network error hand the rest to the outbox."""
    for index, queued in enumerate(calls):
        try:
            outbound.perform(telebot, queued, per_chat=False)
        except outbox.Retry as later:
            _to_outbox(telebot, calls[index:], update_id, later.after_seconds)
            return
        except outbound.Unreachable:
            _to_outbox(telebot, calls[index:], update_id, 0)
            return
        except outbox.Permanent as refused:
            log.info("bot %s: reply %s refused: %s", telebot.botfleet_bot_id, queued["method"], refused.reason)
            if refused.reason.startswith("403"):
                return


def _to_outbox(telebot, calls: list[dict], update_id: int | None, after_seconds: float) -> None:
    key = f"replies:{telebot.botfleet_bot_id}:{update_id if update_id is not None else uuid.uuid4().hex}"
    with unit_of_work():
        outbound.enqueue_calls(telebot.botfleet_bot_id, telebot.botfleet_tenant_id, calls, key=key,
                               after_seconds=after_seconds)
    log.info("bot %s: Telegram busy; %s replies moved to the outbox", telebot.botfleet_bot_id, len(calls))
