"""Replies to the update being handled: sent right after its transaction commits, never inside it.

A handler's `ctx.send`, button answers and edits of the pressed message are queued here while the
update's transaction runs (row locks may be held); the middleware sends them in order once the commit
succeeded, and drops them when it rolled back. Outside an update (no buffer open) a call is made at once.

How they leave depends on who waits for the update:
- polling: the bot's worker thread makes them after the commit (`send_after_commit`); a 429 or an
  unreachable Telegram does not hold the thread: the calls not yet made become one `telegram.calls`
  outbox row (due after retry_after) and the update ends.
- webhook: the request must not wait for Telegram's round trip (with 100 ms of latency per call it
  would bound the updates a request thread can take). The calls become one `telegram.calls` outbox row
  written in the update's own transaction (`keep`), so a rolled-back update sends nothing and a
  committed one is delivered even if this process dies; after the commit this process's reply threads
  deliver it at once (`send_soon`), one chat's replies in order, and the request answers meanwhile.
  Except the commonest case, one call: the webhook request may answer it in its HTTP response
  (`offer_answer` / `take_answer`), a Bot API method in the body that Telegram then makes itself, as
  its webhook protocol allows. No outbound HTTP call, no outbox row, no reply thread.

When a reply may be the webhook's answer (`answer_for`): the update makes exactly one call (two could
overtake each other, one in the answer, one from the reply threads), of a method whose result nobody
reads (no call queued here has its result read: a later edit of a menu takes the message from the
pressed button's callback), with no uploaded bytes (an answer is JSON), and within the bot's send limit
(a held-back send goes to the outbox as before). What it gives up: Telegram reports nothing about a
method made from a webhook answer, and a webhook answer lost on the way (the connection drops after
the commit) is not redelivered with the update (the update's marker drops the repeat): that one reply
is at most once, where the outbox row was at least once.
"""
from __future__ import annotations

import contextvars
import functools
import json
import threading
import uuid
from collections.abc import Hashable

from flask import Flask

from app import redaction
from app.extensions import db
from app.services import outbox
from app.unit_of_work import unit_of_work
from app.worker import delivery
from app.worker.ratelimit import limits_for
from bots import outbound

log = redaction.get_logger(__name__)

_buffer: contextvars.ContextVar[list | None] = contextvars.ContextVar("botfleet_replies", default=None)
#: Webhook requests: where the one call answered in the HTTP response goes (None: no answer offered).
_answer: contextvars.ContextVar[list | None] = contextvars.ContextVar("botfleet_webhook_answer", default=None)
#: `keep`'s row id when the calls went into the webhook's answer instead of an outbox row (ids start at 1).
IN_ANSWER = 0
_SENDER_KEY = "botfleet_reply_sender"
_sender_lock = threading.Lock()


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
            outbound.perform(telebot, queued, per_chat=False, answer_read=False)
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
    with unit_of_work():
        outbound.enqueue_calls(telebot.botfleet_bot_id, telebot.botfleet_tenant_id, calls,
                               key=_key(telebot, update_id), after_seconds=after_seconds, reply=True)
    log.info("bot %s: Telegram busy; %s replies moved to the outbox", telebot.botfleet_bot_id, len(calls))


def _key(telebot, update_id: int | None) -> str:
    return f"replies:{telebot.botfleet_bot_id}:{update_id if update_id is not None else uuid.uuid4().hex}"


def offer_answer() -> contextvars.Token:
    """A webhook request: the update's one reply may be the HTTP response's Bot API method (see `take_answer`)."""
    return _answer.set([])


def take_answer(token: contextvars.Token) -> dict | None:
    """The Bot API method (JSON body: {"method": ..., params}) the update's reply became, if it did."""
    answer = _answer.get()
    _answer.reset(token)
    return answer[0] if answer else None


def answer_for(telebot, calls: list[dict]) -> dict | None:
    """The calls as a webhook's answer, or None when they must go the outbox's way (see the module's doc)."""
    body = outbound.as_method(calls[0]) if len(calls) == 1 else None
    if body is None or calls[0]["method"] in outbound.SENDS and limits_for().wait_before_send(
            telebot.botfleet_bot_id, calls[0]["params"].get("chat_id"), per_chat=False):
        return None  # (a send over the bot's limit: the outbox row waits for it)
    if isinstance(body.get("reply_markup"), str):  # the answer is one JSON document: the keyboard in it as an object
        body["reply_markup"] = _keyboard(body["reply_markup"])
    return body


@functools.lru_cache(maxsize=1024)
def _keyboard(text: str) -> dict:
    """A keyboard's JSON as an object, parsed once per text (a main menu is the same text for every update that
    shows it); only serialized again, never changed."""
    return json.loads(text)


def keep(telebot, calls: list[dict], update_id: int | None) -> int:
    """Write the update's replies as one outbox row in its transaction (flush only); the row's id.

    The row is not handed to the process's outbox dispatcher: `send_soon` delivers it after the commit,
    and a worker's poll finds it due if this process stops first. When the webhook request offered to
    answer the call itself (`offer_answer`) and it may (`answer_for`), no row: IN_ANSWER.
    """
    answer = _answer.get()
    if answer is not None and not answer:
        body = answer_for(telebot, calls)
        if body is not None:
            answer.append(body)
            return IN_ANSWER
    row = outbound.enqueue_calls(telebot.botfleet_bot_id, telebot.botfleet_tenant_id, calls,
                                 key=_key(telebot, update_id), reply=True)
    enqueued = db.session.info.get(outbox.ENQUEUED) or []
    if row.id in enqueued:
        enqueued.remove(row.id)
    return row.id


def send_soon(app: Flask, telebot, row_id: int, calls: list[dict]) -> None:
    """After the update's commit: deliver its replies row from this process's reply threads."""
    if row_id == IN_ANSWER:
        return  # the webhook's HTTP response carries it
    chat_id = next((call["params"].get("chat_id") for call in calls if call["params"].get("chat_id")), None)
    sender_of(app).submit((telebot.botfleet_bot_id, chat_id), row_id)


class ReplySender:
    """Threads (WEBHOOK_REPLY_THREADS) that deliver webhook replies rows by id, one chat's in order.

    A row is claimed like any outbox row (so a worker that found it due first wins, and nothing is sent
    twice) and delivered by its handler: a 429 or a network error reschedules it as usual.
    """

    def __init__(self, app: Flask, workers: int):
        from bots.dispatch import SerialPerKeyPool  # bots.dispatch imports the middleware, which imports us

        self.app = app
        self.pool = SerialPerKeyPool(workers, name="botfleet-replies")

    def submit(self, key: Hashable, row_id: int) -> None:
        self.pool.submit(key, lambda: self._deliver(row_id))

    def idle(self) -> bool:
        """True when no reply is waiting or being sent (tests wait for it)."""
        return self.pool.pending() == 0

    def _deliver(self, row_id: int) -> None:
        with self.app.app_context():
            try:
                if delivery.claim(1, ids=[row_id]):
                    delivery.deliver(row_id)
            except Exception:  # noqa: BLE001 - the row is durable: a worker's poll delivers it after its lease
                db.session.rollback()
                log.exception("webhook replies row %s: delivery failed", row_id)


def sender_of(app: Flask) -> ReplySender:
    """This process's reply threads, started at the first webhook reply."""
    with _sender_lock:
        sender = app.extensions.get(_SENDER_KEY)
        if sender is None:
            sender = app.extensions[_SENDER_KEY] = ReplySender(app, app.config.get("WEBHOOK_REPLY_THREADS", 8))
        return sender
