"""Updates Telegram POSTs to us: check the secret, drop repeats, process in this request, 200 or 500.

The replies are not made in the request (it would wait for Telegram's round trip per call): an update's one
reply is the Bot API method in the response's body, which Telegram makes itself; several replies are an
outbox row of the update's transaction, sent by the process's reply threads (bots/replies.py)."""
from __future__ import annotations

import json
from typing import NamedTuple

from flask import Flask, current_app
from telebot import types
from werkzeug.exceptions import BadRequest, Forbidden, HTTPException, InternalServerError, NotFound
from werkzeug.wrappers import Request

from app import redaction, security_headers, telegram_api
from app.extensions import db
from app.models.types import fits_bigint
from app.services.crypto import same_secret
from bots.context import Sender, load_bot, load_bot_and_sender
from bots.dispatch import process_update
from bots.factory import TeleBotCache
from bots.middleware import UpdateEnvelope, is_db_unavailable
from bots.replies import offer_answer, take_answer

log = redaction.get_logger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_CACHE_KEY = "botfleet_telebots"


class Reply(NamedTuple):
    """A response of the webhook: what Telegram reads of it is the status and, with 200, a Bot API method."""

    status: str
    content_type: str
    body: bytes


OK = Reply("200 OK", "text/plain; charset=utf-8", b"ok")
IGNORED = Reply("200 OK", "text/plain; charset=utf-8", b"ignored")
UNAVAILABLE = Reply("500 INTERNAL SERVER ERROR", "text/plain; charset=utf-8", b"database unavailable, deliver again")


def serve(app: Flask, bot_id: int, environ: dict, start_response) -> list[bytes]:
    """The WSGI response to a POST to /tg/<bot_id>, in an app context of its own (app/webhooks)."""
    request = Request(environ)
    request.max_content_length = app.config["WEBHOOK_MAX_CONTENT_LENGTH"]  # 413 beyond it, unread
    with app.app_context():
        reply = _respond(request, bot_id)
    start_response(reply.status, [("Content-Type", reply.content_type), ("Content-Length", str(len(reply.body))),
                                  *security_headers.fixed(app, request)])
    return [reply.body]


def _respond(request: Request, bot_id: int) -> Reply:
    try:
        return telegram_update(request, bot_id)
    except HTTPException as refused:
        return _refusal(refused, request)
    except Exception:  # noqa: BLE001 - a bug: a 500, and Telegram delivers again
        log.exception("POST /tg/%s failed", bot_id)
        db.session.rollback()
        return _refusal(InternalServerError(), request)


def _refusal(refused: HTTPException, request: Request) -> Reply:
    return Reply(f"{refused.code} {refused.name.upper()}", "text/html; charset=utf-8",
                 refused.get_body(request.environ).encode())


def telegram_update(request: Request, bot_id: int) -> Reply:
    """One update from Telegram; 500 (Telegram delivers again) when the database is down.

    The update runs in this request's transaction, which begins with reading the bot and its tenant, and
    with them the member the update comes from and their session of this bot (the handlers reuse them):
    one connection and one transaction per webhook request. The body is read first for that (no larger
    than WEBHOOK_MAX_CONTENT_LENGTH), but no telebot Update is built before the secret is checked, and
    nothing is written unless it is the bot's: on Postgres that statement also records the update's marker
    (bots.context.EVERYTHING_AND_MARKER) when the secret matches there too; elsewhere the middleware does.
    """
    payload = _payload(request)
    try:
        loaded = _load(request, bot_id, payload)
    except Exception as exc:  # noqa: BLE001 - decide 500 vs a bug below
        if is_db_unavailable(exc):
            return _unavailable()
        raise
    if loaded is None or not loaded[0][0].is_active:
        raise NotFound()
    bot_and_tenant, sender, recorded = loaded
    if not same_secret(request.headers.get(SECRET_HEADER), bot_and_tenant[0].webhook_secret):
        raise Forbidden()
    if payload is None:
        raise BadRequest()
    update = _parse_update(payload)
    if update is None:
        return IGNORED
    offered = offer_answer()
    try:
        envelope = process_update(_telebots().get(bot_and_tenant[0]), update, UpdateEnvelope(
            update.update_id, dedupe=not recorded, reply_when_unavailable=False, in_caller_context=True,
            bot_and_tenant=bot_and_tenant, sender=sender, replies_in_background=True))
    finally:
        answer = take_answer(offered)
    if envelope.db_unavailable:
        return _unavailable()
    if answer is not None and envelope.committed:
        return Reply("200 OK", "application/json", json.dumps(answer, ensure_ascii=False).encode())
    return OK


def _payload(request: Request) -> dict | None:
    """The update's JSON object; None when the body is not one (400, once the secret is checked)."""
    payload = request.get_json(silent=True)
    return payload if isinstance(payload, dict) and isinstance(payload.get("update_id"), int) else None


def _load(request: Request, bot_id: int, payload: dict | None) -> tuple[tuple, Sender | None, bool] | None:
    """((bot, tenant), the sender's rows or None, whether the update's marker was recorded with them), or None when
    there is no such bot."""
    sender_id = _sender_id(payload)
    if sender_id is not None:
        return load_bot_and_sender(bot_id, sender_id, (payload["update_id"], request.headers.get(SECRET_HEADER)))
    loaded = load_bot(bot_id)
    return (loaded, None, False) if loaded is not None else None


def _sender_id(payload: dict | None) -> int | None:
    """The Telegram user the update comes from (its part's "from"), if it names one a bigint holds. Only a hint:
    the handlers take the member read for it when their update's user is that one, and read theirs otherwise."""
    for part in (payload or {}).values():
        sender = part.get("from") if isinstance(part, dict) else None
        if isinstance(sender, dict) and fits_bigint(sender.get("id")):
            return sender["id"]
    return None


def _parse_update(payload: dict) -> types.Update | None:
    try:
        return types.Update.de_json(payload)
    except Exception:  # noqa: BLE001 - an update the library cannot read will not improve on redelivery
        log.warning("dropped an update the library could not parse (update_id %s)", payload["update_id"])
        return None


def _telebots() -> TeleBotCache:
    app = current_app._get_current_object()
    cache = app.extensions.get(_CACHE_KEY)
    if cache is None:
        telegram_api.configure(app)
        cache = app.extensions.setdefault(_CACHE_KEY, TeleBotCache(app))
    return cache


def _unavailable() -> Reply:
    db.session.rollback()
    return UNAVAILABLE
