"""One update, one app context, one unit of work (commit, then dispatch the outbox): the class middleware
every TeleBot of ours carries."""
from __future__ import annotations

import contextvars
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask
from telebot import types, util
from telebot.handler_backends import BaseMiddleware, CancelUpdate

from app import redaction
from app.extensions import db
from app.models import Member, ProcessedUpdate, utcnow
from app.worker.dispatch import dispatch_committed
from bots import replies
from bots.i18n import t

log = redaction.get_logger(__name__)

FALLBACK_TEXTS = {
    "error.generic": "Something went wrong, please try again.",
    "error.unavailable": "The service is temporarily unavailable, please try again in a minute.",
}
_APP_CONTEXT_KEY = "_botfleet_app_context"
_REPLIES_KEY = "_botfleet_replies"
_EXPIRING_KEY = "_botfleet_expire_on_commit"


@dataclass
class UpdateEnvelope:
    """What the dispatcher knows about the update being processed, and what became of it."""

    update_id: int
    #: Webhook mode: record (bot, update_id) in the update's own transaction and drop repeats (False as well when
    #: the webhook request recorded it already, in the statement that read the bot: bots.context).
    dedupe: bool = False
    #: Polling tells the member the service is unavailable; a webhook answers 500 and Telegram retries instead.
    reply_when_unavailable: bool = True
    #: Webhook mode: the replies become an outbox row of the update's transaction, sent by this process's
    #: reply threads after the commit, so the request does not wait for Telegram (bots/replies.py).
    replies_in_background: bool = False
    #: The update runs in the caller's app context and transaction (a webhook request, which already read
    #: the bot) instead of a context of its own; the caller's session is then committed or rolled back here.
    in_caller_context: bool = False
    #: The bot row with its tenant, when the caller read them in that transaction (see bots.context).
    bot_and_tenant: tuple | None = None
    #: The update's sender (bots.context.Sender) when the caller read them with the bot; taken once.
    sender: object | None = None
    committed: bool = False
    duplicate: bool = False
    failed: BaseException | None = None
    db_unavailable: bool = False


_current_envelope: contextvars.ContextVar[UpdateEnvelope | None] = contextvars.ContextVar(
    "botfleet_update_envelope", default=None)


def current_envelope() -> UpdateEnvelope | None:
    return _current_envelope.get()


def set_envelope(envelope: UpdateEnvelope | None) -> contextvars.Token:
    return _current_envelope.set(envelope)


def reset_envelope(token: contextvars.Token) -> None:
    _current_envelope.reset(token)


def is_db_unavailable(exc: BaseException | None) -> bool:
    """True when the database could not be reached (as opposed to a bug or a refused write)."""
    for _ in range(5):
        if exc is None:
            return False
        if isinstance(exc, sa.exc.OperationalError):
            return True
        if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
            return True
        exc = exc.__cause__
    return False


class UpdateTransactionMiddleware(BaseMiddleware):
    """Push an app context and open a transaction before the handlers; commit or roll back after."""

    def __init__(self, app: Flask, telebot):
        super().__init__()
        self.update_sensitive = False
        self.update_types = list(util.update_types)
        self.app = app
        self.telebot = telebot

    def pre_process(self, update_part, data):
        envelope = current_envelope()
        context = None
        if envelope is None or not envelope.in_caller_context:
            context = self.app.app_context()
            context.push()
        # Expiring the session's objects at the update's commit is work for nothing: after the commit only the
        # replies' sending runs here, which reads no row through them (the outbox delivers in app contexts of
        # its own), and then the session ends (this app context's, or the webhook request's). A caller's
        # session gets its setting back (_pop).
        session = db.session()
        data[_EXPIRING_KEY], session.expire_on_commit = session.expire_on_commit, False
        data[_APP_CONTEXT_KEY] = context
        data[_REPLIES_KEY] = replies.open_buffer()
        if envelope is None or not envelope.dedupe:
            return None
        try:
            if _record_processed(self.telebot.botfleet_bot_id, envelope.update_id):
                return None
            envelope.duplicate = True
            db.session.rollback()
        except Exception as exc:  # noqa: BLE001 - whatever the database says, the update fails cleanly
            self._fail(update_part, exc)
        _pop(data)
        return CancelUpdate()

    def post_process(self, update_part, data, exception):
        if _APP_CONTEXT_KEY not in data:
            return
        try:
            calls = replies.close_buffer(data.pop(_REPLIES_KEY))
            envelope = current_envelope()
            update_id = envelope.update_id if envelope else None
            kept = None
            if exception is None and calls and envelope is not None and envelope.replies_in_background:
                kept, exception = self._keep(calls, update_id)
            if exception is None:
                exception = self._commit()
            if exception is not None:
                self._fail(update_part, exception)
            elif kept is not None:
                replies.send_soon(self.app, self.telebot, kept, calls)
            else:
                replies.send_after_commit(self.telebot, calls, update_id)
        finally:
            _pop(data)

    def _keep(self, calls: list[dict], update_id: int | None) -> tuple[int | None, BaseException | None]:
        """The replies as an outbox row of this transaction: (its id, None), or (None, the failure)."""
        try:
            return replies.keep(self.telebot, calls, update_id), None
        except Exception as exc:  # noqa: BLE001 - a failed write is a failed update
            return None, exc

    def _commit(self) -> BaseException | None:
        try:
            db.session.commit()
        except Exception as exc:  # noqa: BLE001 - a failed commit is a failed update
            return exc
        envelope = current_envelope()
        if envelope is not None:
            envelope.committed = True
        dispatch_committed()
        return None

    def _fail(self, update_part, exc: BaseException) -> None:
        """Roll back, log without the token, and tell the member in their language."""
        _rollback_quietly()
        unavailable = is_db_unavailable(exc)
        envelope = current_envelope()
        if envelope is not None:
            envelope.failed, envelope.db_unavailable = exc, unavailable
        bot_id = self.telebot.botfleet_bot_id
        if unavailable:
            log.warning("bot %s: database unavailable while handling an update: %s", bot_id,
                        redaction.redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
            if envelope is not None and not envelope.reply_when_unavailable:
                return
        else:
            log.error("bot %s: an update failed and was rolled back", bot_id, exc_info=exc)
        key = "error.unavailable" if unavailable else "error.generic"
        reply_with_error(self.telebot, update_part, key, None if unavailable else self._member_language(update_part))

    def _member_language(self, update_part) -> str | None:
        user = getattr(update_part, "from_user", None)
        tenant_id = getattr(self.telebot, "botfleet_tenant_id", None)
        if user is None or tenant_id is None:
            return None
        try:
            return db.session.scalar(sa.select(Member.language_code).where(
                Member.tenant_id == tenant_id, Member.telegram_id == user.id))
        except Exception:  # noqa: BLE001 - the language is a nicety; never fail the error reply for it
            _rollback_quietly()
            return None


#: Built once (a webhook update inserts one): a Core INSERT skips building a statement and the ORM's flush.
_PROCESSED = sa.insert(ProcessedUpdate.__table__).values(
    bot_id=sa.bindparam("bot_id"), update_id=sa.bindparam("update_id"), processed_at=sa.bindparam("processed_at"))


def _record_processed(bot_id: int, update_id: int) -> bool:
    """Insert the (bot, update_id) marker; False when it is already there (a redelivery)."""
    try:
        db.session.execute(_PROCESSED, {"bot_id": bot_id, "update_id": update_id, "processed_at": utcnow()})
    except sa.exc.IntegrityError:
        db.session.rollback()
        return False
    return True


def _rollback_quietly() -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - a dead connection cannot even roll back; the pool discards it
        log.debug("rollback failed", exc_info=True)


def _pop(data) -> None:
    if _REPLIES_KEY in data:
        replies.close_buffer(data.pop(_REPLIES_KEY))
    db.session().expire_on_commit = data.pop(_EXPIRING_KEY)
    context = data.pop(_APP_CONTEXT_KEY)
    if context is not None:
        context.pop()


def error_text(lang: str | None, key: str) -> str:
    """The error message from the bot catalogs, else a fixed English sentence."""
    try:
        return t(lang, key)
    except Exception:  # noqa: BLE001 - an unknown language or key must not hide the error message
        log.warning("no catalog text for %s in %s", key, lang)
        return FALLBACK_TEXTS[key]


def reply_with_error(telebot, update_part, key: str, member_lang: str | None) -> None:
    """Tell the user in the chat (or on the button) that this did not work; never raise."""
    user = getattr(update_part, "from_user", None)
    lang = member_lang or getattr(user, "language_code", None)
    text = error_text(lang, key)
    try:
        if isinstance(update_part, types.CallbackQuery):
            telebot.answer_callback_query(update_part.id, text=text, show_alert=True)
        elif isinstance(update_part, types.Message) and update_part.chat.type != "channel":
            telebot.send_message(update_part.chat.id, text)
    except Exception as exc:  # noqa: BLE001 - e.g. the user blocked the bot
        log.info("bot %s: could not send the error reply: %s", telebot.botfleet_bot_id,
                 redaction.redact(str(exc)))
