"""Card-to-card: the invoice (top-up or plan), the member's receipt (photo or text), cancelling."""
from __future__ import annotations

import html
import logging
import re

from app.extensions import db
from app.models import Receipt, ReceiptStatus
from app.services import images, receipts, settings
from app.services.amounts import ascii_digits, parse_amount
from app.services.errors import DomainError
from app.services.payments import fingerprints, unique_amounts
from bots import formatting as fmt
from bots import media, notify
from bots.handlers import admin, online_payments
from bots.handlers.common import error_text, feature_off, int_arg, on_callback, on_message
from bots.keyboards import button, home_keyboard, home_row, keyboard

log = logging.getLogger(__name__)

AMOUNT_STATE = "topup_amount"
RECEIPT_STATE = "receipt"
REFERENCE_DIGITS = re.compile(r"\d{4,}")


def can_top_up(ctx) -> bool:
    """Card-to-card or Zarinpal is on in this bot."""
    return not feature_off(ctx, "card_to_card") or online_payments.available(ctx)


@on_callback
def ask_amount(ctx, call):
    """Ask how much to top up; the next text (or a preset button) answers."""
    if not can_top_up(ctx):
        return ctx.t("feature.off")
    ctx.set_state(AMOUNT_STATE)
    row = [button(fmt.money(ctx.lang, a), f"tu:{a}") for a in settings.get(ctx.tenant, "topup_presets")]
    ctx.say("topup.ask", keyboard(row, home_row(ctx)))
    return None


def on_amount_text(ctx, message) -> None:
    try:
        amount = parse_amount(message.text or "")
    except DomainError as exc:
        ctx.send(error_text(ctx, exc), home_keyboard(ctx))
        return
    ctx.set_state(None)
    choose_method_or_invoice(ctx, amount)


@on_callback
def topup_amount(ctx, call):
    """tu:<amount>: a preset (or "top up the difference"); with Zarinpal on, the member picks how to pay."""
    if not can_top_up(ctx):
        return ctx.t("feature.off")
    amount = int_arg(call)
    if not amount:
        return ctx.t("stale.button")
    return choose_method_or_invoice(ctx, amount)


@on_callback
def topup_by_card(ctx, call):
    """tc:<amount>: card-to-card chosen for a top-up."""
    amount = int_arg(call)
    if not amount:
        return ctx.t("stale.button")
    return open_invoice_for(ctx, amount=amount)


def choose_method_or_invoice(ctx, amount: int) -> str | None:
    if not online_payments.available(ctx):
        return open_invoice_for(ctx, amount=amount)
    ctx.say("zarinpal.choose_method", online_payments.method_keyboard(ctx, amount),
            amount=fmt.money(ctx.lang, amount))
    return None


def open_invoice_for(ctx, *, amount: int | None = None, plan=None) -> str | None:
    """Open an invoice and show it; an open one is shown instead of a second. Returns a callback answer."""
    if feature_off(ctx, "card_to_card"):
        return ctx.t("feature.off")
    try:
        receipt = unique_amounts.apply(receipts.open_invoice(ctx.member, amount=amount, plan=plan, bot=ctx.bot))
    except receipts.OpenReceiptExists as exc:
        show_open_receipt(ctx, exc.receipt)
        return ctx.t("error.open_receipt_exists")
    except DomainError as exc:
        ctx.send(error_text(ctx, exc), home_keyboard(ctx))
        return None
    ctx.set_state(RECEIPT_STATE, receipt_id=receipt.id)
    ctx.send(invoice_text(ctx, receipt), cancel_keyboard(ctx, receipt), parse_mode="HTML")
    return None


def invoice_text(ctx, receipt: Receipt) -> str:
    """Where to transfer how much, the tracking code and how long the invoice stays open (HTML)."""
    card, esc = receipt.card, html.escape
    text = ctx.t("payments.invoice", code=receipt.tracking_code, amount=esc(fmt.money(ctx.lang, receipt.amount)),
                 card=fmt.card_number(card.card_number) if card else "-",
                 holder=esc(card.holder_name if card else "-"), bank=esc(card.bank_name if card else "-"),
                 expires=esc(fmt.date_time(ctx.lang, receipt.expires_at, ctx.tenant.timezone)),
                 hours=fmt.digits(ctx.lang, settings.get(ctx.tenant, "receipt_timeout_hours")))
    if receipt.plan is not None:
        text += "\n" + esc(ctx.t("payments.for_plan", plan=receipt.plan.name))
    if unique_amounts.enabled(ctx.tenant):
        text += "\n\n<b>" + esc(ctx.t("payments.exact_amount", amount=fmt.money(ctx.lang, receipt.amount))) + "</b>"
    return text


def cancel_keyboard(ctx, receipt: Receipt):
    return keyboard([button(ctx.t("payments.cancel"), f"rx:{receipt.id}")], home_row(ctx))


def show_open_receipt(ctx, receipt: Receipt) -> None:
    """Tell the member about their open invoice: its details again, or that it is under review."""
    if receipt.status == ReceiptStatus.PENDING_REVIEW.value:
        ctx.say("payments.under_review", code=receipt.tracking_code, markup=home_keyboard(ctx))
        return
    ctx.say("payments.open_exists", code=receipt.tracking_code, amount=fmt.money(ctx.lang, receipt.amount))
    ctx.set_state(RECEIPT_STATE, receipt_id=receipt.id)
    ctx.send(invoice_text(ctx, receipt), cancel_keyboard(ctx, receipt), parse_mode="HTML")


@on_message
def on_photo(ctx, message):
    """A receipt photo (or image file) for the member's open invoice, kept only as our re-encoded copy."""
    if message.chat.type != "private":
        return None
    receipt = _awaiting_receipt(ctx)
    if receipt is None:
        return None
    image = message.photo[-1] if message.photo else message.document
    try:
        clean = media.received_image(ctx.telebot, image, must_read=not message.photo)
    except images.ImageRejected as exc:  # the invoice stays open for a proper picture
        ctx.send(error_text(ctx, exc), cancel_keyboard(ctx, receipt))
        return None
    # A document's file_id is no photo: admin chats get our re-encoded copy uploaded (receipt_outbound).
    _submit(ctx, receipt, telegram_file_id=image.file_id if message.photo else None, text=(message.caption or None),
            photo_path=images.store(clean, f"receipts/{receipt.tenant_id}", receipt.tracking_code) if clean else None,
            fingerprint=dict(file_unique_id=image.file_unique_id, image=clean.data if clean else None))
    return None


def on_receipt_text(ctx, message) -> None:
    """A transfer reference typed instead of a photo."""
    receipt = _awaiting_receipt(ctx)
    if receipt is None:
        ctx.set_state(None)
        return
    text = (message.text or "").strip()
    if not REFERENCE_DIGITS.search(ascii_digits(text)):
        ctx.say("payments.reference_hint")
        return
    _submit(ctx, receipt, text=text[:1000])


def _awaiting_receipt(ctx) -> Receipt | None:
    """The open receipt waiting for proof; otherwise tells the member why nothing happens."""
    receipt = receipts.open_receipt_of(ctx.member)
    if receipt is None:
        ctx.say("payments.no_invoice", home_keyboard(ctx))
        return None
    if receipt.status != ReceiptStatus.AWAITING_RECEIPT.value:
        ctx.say("payments.under_review", code=receipt.tracking_code)
        return None
    return receipt


def _submit(ctx, receipt: Receipt, fingerprint: dict | None = None, **proof) -> None:
    try:
        receipts.submit(receipt, **proof)
    except DomainError as exc:
        ctx.send(error_text(ctx, exc))
        return
    fingerprints.record(receipt, **(fingerprint or {}))  # flags a photo or reference used before
    ctx.set_state(None)
    ctx.say("payments.submitted", code=receipt.tracking_code, markup=home_keyboard(ctx))
    admin.post_receipt(ctx.telebot, receipt)


@on_callback
def cancel(ctx, call):
    """Cancel the member's own open invoice."""
    receipt = db.session.get(Receipt, int_arg(call) or 0)
    if receipt is None or receipt.tenant_id != ctx.tenant.id or receipt.member_id != ctx.member.id:
        return ctx.t("stale.button")
    try:
        receipts.cancel(receipt, ctx.member)
    except DomainError:
        return ctx.t("payments.cannot_cancel")
    ctx.set_state(None)
    notify.refresh_admin_messages(ctx.telebot, receipt)
    ctx.say("payments.cancelled", code=receipt.tracking_code, markup=home_keyboard(ctx))
    return ctx.t("payments.cancelled", code=receipt.tracking_code)


def is_image_document(message) -> bool:
    return bool(message.document and (message.document.mime_type or "").startswith("image/"))


def register(bot) -> None:
    starts = lambda prefix: (lambda c: (c.data or "").startswith(prefix))  # noqa: E731
    bot.register_message_handler(on_photo, content_types=["photo"], pass_bot=True)
    bot.register_message_handler(on_photo, content_types=["document"], func=is_image_document, pass_bot=True)
    bot.register_callback_query_handler(ask_amount, func=lambda c: c.data == "m:topup", pass_bot=True)
    bot.register_callback_query_handler(topup_amount, func=starts("tu:"), pass_bot=True)
    bot.register_callback_query_handler(topup_by_card, func=starts("tc:"), pass_bot=True)
    bot.register_callback_query_handler(cancel, func=starts("rx:"), pass_bot=True)
