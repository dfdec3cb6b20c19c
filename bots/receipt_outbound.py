"""A pending receipt's copies in the admin chats, posted and kept current through the outbox.

`receipt.admin_copies` posts a copy to every admin chat of the receipt's bot (each chat once: a copy is
recorded in `receipt.admin_messages` right after Telegram accepts it); `receipt.admin_refresh` rewrites
every recorded copy to the receipt's state at delivery time (buttons only while it is pending).
Both render at delivery, so a copy posted after a decision already shows the decision.
"""
from __future__ import annotations

from app import redaction
from app.extensions import db
from app.models import OutboxMessage, Receipt, ReceiptStatus
from app.services import images, outbox, receipt_announcements, settings
from app.services.locking import lock_row
from bots import outbound, receipt_views

log = redaction.get_logger(__name__)

COPIES = "receipt.admin_copies"
REFRESH = receipt_announcements.ADMIN_REFRESH


def admin_chat_ids(bot) -> set[int]:
    """The bot's admin chat ids (the declared `admin_chat_ids` setting)."""
    return set(settings.get(bot, "admin_chat_ids"))


def post_copies(receipt: Receipt) -> None:
    """Queue the receipt's copies to its bot's admin chats (flush only; sent after the commit)."""
    outbox.enqueue(COPIES, {"receipt_id": receipt.id}, tenant_id=receipt.tenant_id,
                   key=f"receipt:{receipt.id}:admin_copies")


def edit_copy(receipt: Receipt, kind: str, chat_id: int, message_id: int, markup) -> tuple[str, dict]:
    """The Bot API call (method, params) that shows the receipt's caption with `markup` on one copy."""
    caption = receipt_views.admin_caption(receipt, receipt_views.admin_language(receipt.member.tenant))
    where = {"chat_id": chat_id, "message_id": message_id, "reply_markup": markup}
    if kind == "photo":
        return "edit_message_caption", {"caption": caption, **where}
    return "edit_message_text", {"text": caption, **where}


def current_markup(receipt: Receipt):
    if receipt.status != ReceiptStatus.PENDING_REVIEW.value:
        return None
    return receipt_views.decision_keyboard(receipt, receipt_views.admin_language(receipt.member.tenant))


@outbox.handler(COPIES)
def deliver_copies(message: OutboxMessage) -> None:
    receipt = _receipt(message)
    if receipt.bot is None or not receipt.bot.is_active:
        raise outbox.Permanent("the receipt's bot is gone or inactive")
    telebot = outbound.telebot_for(receipt.bot)
    posted = {chat_id for chat_id, _, _ in receipt.admin_messages or []}
    for chat_id in sorted(admin_chat_ids(receipt.bot) - posted):
        call = _copy_call(receipt, chat_id)
        try:
            sent = outbound.perform(telebot, call)
        except outbox.Permanent as refused:  # the admin chat blocked the bot or is gone: the others still get it
            log.warning("receipt %s not sent to admin chat %s: %s", receipt.tracking_code, chat_id, refused.reason)
            continue
        _record_copy(receipt.id, [chat_id, sent.message_id, "photo" if call["method"] == "send_photo" else "text"])
        receipt = _receipt(message)


def _copy_call(receipt: Receipt, chat_id: int) -> dict:
    """send_photo of the member's Telegram photo, else an upload of our re-encoded copy (a receipt sent as
    an image *document* has no photo file_id: Telegram refuses a document's id in send_photo), else text."""
    caption = receipt_views.admin_caption(receipt, receipt_views.admin_language(receipt.member.tenant))
    markup = current_markup(receipt)
    stored = images.stored_path(receipt.photo_path)
    photo = receipt.telegram_file_id or (stored.read_bytes() if stored is not None else None)
    if photo:
        return outbound.bot_call("send_photo", chat_id=chat_id, photo=photo, caption=caption, reply_markup=markup)
    return outbound.bot_call("send_message", chat_id=chat_id, text=caption, reply_markup=markup)


def _record_copy(receipt_id: int, copy: list) -> None:
    """Append a posted copy under the receipt's row lock and commit at once (a re-run skips that chat)."""
    locked = lock_row(Receipt, receipt_id)
    locked.admin_messages = [*(locked.admin_messages or []), copy]
    db.session.commit()


@outbox.handler(REFRESH)
def deliver_refresh(message: OutboxMessage) -> None:
    receipt = _receipt(message)
    if receipt.bot is None or not receipt.admin_messages:
        return
    telebot = outbound.telebot_for(receipt.bot)
    markup = current_markup(receipt)
    for chat_id, message_id, kind in receipt.admin_messages:
        method, params = edit_copy(receipt, kind, chat_id, message_id, markup)
        try:
            outbound.perform(telebot, outbound.bot_call(method, **params))
        except outbox.Permanent as refused:  # e.g. a copy deleted in the chat
            log.info("receipt %s: admin copy in %s not edited: %s", receipt.tracking_code, chat_id, refused.reason)


def _receipt(message: OutboxMessage) -> Receipt:
    db.session.expire_all()
    receipt = db.session.get(Receipt, message.payload["receipt_id"])
    if receipt is None:
        raise outbox.Permanent("receipt deleted")
    return receipt
