"""The admin chat: pending receipts with Approve / Reject, a reason (canned or typed), the decision shown."""
from __future__ import annotations

import logging

from app.database import retrying
from app.extensions import db
from app.models import Receipt, ReceiptStatus
from app.services import receipt_announcements, receipts
from app.services.errors import DomainError
from bots import notify, receipt_outbound, receipt_views
from bots.context import language_of
from bots.handlers.common import arg, error_text, int_arg, on_callback, on_message, session_state
from bots.i18n import t
from bots.receipt_outbound import admin_chat_ids

log = logging.getLogger(__name__)

REASON_STATE = "reject_reason"
MAX_REASON = 500


def is_admin(ctx, user_id: int, chat) -> bool:
    """A listed user, or anyone in a listed group chat."""
    ids = admin_chat_ids(ctx.bot)
    return user_id in ids or (chat is not None and chat.type != "private" and chat.id in ids)


def post_receipt(tb, receipt: Receipt) -> None:
    """Queue the pending receipt's copies to every admin chat of its bot (sent after the update commits)."""
    receipt_outbound.post_copies(receipt)


def _receipt_for_admin(ctx, call) -> tuple[Receipt | None, str | None]:
    """The receipt a button names, or the answer to give instead (not an admin, unknown, decided)."""
    if not is_admin(ctx, call.from_user.id, call.message.chat if call.message else None):
        return None, ctx.t("admin.not_allowed")
    receipt = db.session.get(Receipt, int_arg(call) or 0)
    if receipt is None or receipt.tenant_id != ctx.tenant.id:
        return None, ctx.t("stale.button")
    if receipt.status != ReceiptStatus.PENDING_REVIEW.value:
        notify.refresh_admin_messages(ctx.telebot, receipt)
        return None, ctx.t("admin.already_decided")
    return receipt, None


@on_callback(admin_chats=True)
def approve(ctx, call):
    receipt, refusal = _receipt_for_admin(ctx, call)
    if receipt is None:
        return refusal
    return _decide(ctx, receipt, lambda by: receipts.approve(receipt, by), ctx.t("admin.approved"))


@on_callback(admin_chats=True)
def ask_reason(ctx, call):
    """Offer the canned reasons; a text the admin sends next is taken as the reason."""
    receipt, refusal = _receipt_for_admin(ctx, call)
    if receipt is None:
        return refusal
    ctx.set_state(REASON_STATE, receipt_id=receipt.id)
    lang = receipt_views.admin_language(ctx.tenant)
    notify.refresh_admin_messages(ctx.telebot, receipt, receipt_views.reasons_keyboard(receipt, lang))
    return ctx.t("admin.choose_reason")


@on_callback(admin_chats=True)
def canned_reason(ctx, call):
    receipt, refusal = _receipt_for_admin(ctx, call)
    if receipt is None:
        return refusal
    index = arg(call, 2)
    if not index.isdigit() or int(index) >= receipt_views.CANNED_REASONS:
        return ctx.t("stale.button")
    # The member reads the reason, so a canned one is stored in the member's language.
    reason = t(language_of(receipt.member, ctx.tenant), f"reject.reason{index}")
    ctx.set_state(None)
    return _decide(ctx, receipt, lambda by: receipts.reject(receipt, by, reason), ctx.t("admin.rejected"))


@on_callback(admin_chats=True)
def back_to_decision(ctx, call):
    receipt, refusal = _receipt_for_admin(ctx, call)
    if receipt is None:
        return refusal
    ctx.set_state(None)
    lang = receipt_views.admin_language(ctx.tenant)
    notify.refresh_admin_messages(ctx.telebot, receipt, receipt_views.decision_keyboard(receipt, lang))
    return None


def on_reason_text(ctx, message) -> None:
    """The admin typed a rejection reason after pressing Reject."""
    receipt_id = (ctx.session.session_data or {}).get("receipt_id")
    ctx.set_state(None)
    receipt = db.session.get(Receipt, receipt_id or 0)
    if (receipt is None or receipt.tenant_id != ctx.tenant.id
            or not is_admin(ctx, message.from_user.id, message.chat)):
        ctx.say("stale.button")
        return
    if receipt.status != ReceiptStatus.PENDING_REVIEW.value:
        ctx.say("admin.already_decided")
        return
    reason = (message.text or "").strip()[:MAX_REASON] or "-"
    answer = _decide(ctx, receipt, lambda by: receipts.reject(receipt, by, reason), ctx.t("admin.rejected"))
    ctx.send(answer)


#: The reason typed in an admin group (in a private chat the fallback's state routing takes it).
typed_reason_in_group = on_message(on_reason_text, admin_chats=True)


def awaits_reason(tb, message) -> bool:
    """A text in a group from someone the bot asked for a rejection reason (read before the context)."""
    return (message.chat.type != "private" and message.from_user is not None
            and session_state(tb, message.from_user.id) == REASON_STATE)


def _decide(ctx, receipt: Receipt, decision, done: str) -> str:
    """Apply approve/reject as this Telegram admin, then update the admin copies and tell the member."""
    try:
        retrying(lambda: decision(receipts.Reviewer(telegram_id=ctx.member.telegram_id)))
    except receipts.InvalidTransition:
        db.session.refresh(receipt)
        notify.refresh_admin_messages(ctx.telebot, receipt)
        return ctx.t("admin.already_decided")
    except DomainError as exc:
        return error_text(ctx, exc)
    receipt_announcements.announce_decision(receipt)
    return done


def register(bot) -> None:
    starts = lambda prefix: (lambda c: (c.data or "").startswith(prefix))  # noqa: E731
    bot.register_message_handler(typed_reason_in_group, content_types=["text"], pass_bot=True,
                                 func=lambda m: awaits_reason(bot, m))
    bot.register_callback_query_handler(approve, func=starts("ra:"), pass_bot=True)
    bot.register_callback_query_handler(ask_reason, func=starts("rr:"), pass_bot=True)
    bot.register_callback_query_handler(canned_reason, func=starts("rq:"), pass_bot=True)
    bot.register_callback_query_handler(back_to_decision, func=starts("rb:"), pass_bot=True)
