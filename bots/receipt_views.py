"""How a receipt looks in an admin chat and what its member is told about a decision."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Member, Receipt, ReceiptStatus, Tenant
from app.services import receipts
from app.services.payments import fingerprints
from bots import formatting as fmt
from bots.congratulations import with_rewards
from bots.context import CAPTION_LIMIT, clip, language_of
from bots.i18n import t
from bots.keyboards import button, keyboard

CANNED_REASONS = 3


def admin_language(tenant: Tenant) -> str:
    """Admin chats speak the tenant's default language."""
    return language_of(None, tenant)


def admin_caption(receipt: Receipt, lang: str) -> str:
    """Member, amount, purpose, card, tracking code and, once decided, who decided and when."""
    tenant, member, card = receipt.member.tenant, receipt.member, receipt.card
    purpose = (t(lang, "admin.purpose_plan", plan=receipt.plan.name) if receipt.plan is not None
               else t(lang, "admin.purpose_topup"))
    text = t(lang, "admin.receipt", code=receipt.tracking_code, member=member.display_name[:60],
             telegram_id=member.telegram_id, amount=fmt.money(lang, receipt.amount), purpose=purpose,
             card=fmt.card_number(card.card_number) if card else "-", holder=card.holder_name if card else "-",
             bank=card.bank_name if card else "-",
             submitted=fmt.date_time(lang, receipt.submitted_at, tenant.timezone) if receipt.submitted_at else "-",
             text=(receipt.text or "-")[:300])
    reused = reuse_line(receipt, lang)
    text = f"{reused}\n\n{text}" if reused else text
    decision = decision_line(receipt, lang)
    return clip(f"{text}\n\n{decision}" if decision else text, CAPTION_LIMIT)


def reuse_line(receipt: Receipt, lang: str) -> str | None:
    """"Same image as C2C-… (approved, 1403/…)" when the receipt repeats an earlier one."""
    fingerprint = fingerprints.fingerprint_of(receipt)
    earlier = fingerprint.duplicate_of if fingerprint is not None and fingerprint.flagged else None
    if earlier is None:
        return None
    moment = earlier.reviewed_at or earlier.submitted_at or earlier.created_at
    return t(lang, f"admin.reused.{fingerprint.duplicate_reason}", code=earlier.tracking_code,
             status=t(lang, f"receipt.{earlier.status}"),
             when=fmt.date_time(lang, moment, receipt.member.tenant.timezone))


def decision_line(receipt: Receipt, lang: str) -> str | None:
    tenant = receipt.member.tenant
    when = fmt.date_time(lang, receipt.reviewed_at, tenant.timezone) if receipt.reviewed_at else "-"
    if receipt.status == ReceiptStatus.APPROVED.value:
        return t(lang, "admin.approved_by", who=reviewer_name(receipt), when=when)
    if receipt.status == ReceiptStatus.REJECTED.value:
        return t(lang, "admin.rejected_by", who=reviewer_name(receipt), when=when,
                 reason=(receipt.reject_reason or "-")[:300])
    if receipt.status != ReceiptStatus.PENDING_REVIEW.value:
        return t(lang, "admin.decided_status", status=t(lang, f"receipt.{receipt.status}"))
    return None


def reviewer_name(receipt: Receipt) -> str:
    """The dashboard account or the Telegram admin who decided."""
    account = receipt.reviewed_by_account
    if account is not None:
        return account.display_name or account.email
    telegram_id = receipt.reviewed_by_telegram_id
    admin = db.session.scalar(sa.select(Member).where(
        Member.tenant_id == receipt.tenant_id, Member.telegram_id == telegram_id)) if telegram_id else None
    if admin is None:
        return str(telegram_id or "-")
    handle = f"@{admin.username}" if admin.username else admin.display_name
    return f"{handle} ({telegram_id})"


def decision_keyboard(receipt: Receipt, lang: str):
    return keyboard([button(t(lang, "admin.approve"), f"ra:{receipt.id}"),
                     button(t(lang, "admin.reject"), f"rr:{receipt.id}")])


def reasons_keyboard(receipt: Receipt, lang: str):
    rows = [[button(t(lang, f"reject.reason{n}"), f"rq:{receipt.id}:{n}")] for n in range(CANNED_REASONS)]
    return keyboard(*rows, [button(t(lang, "menu.back"), f"rb:{receipt.id}")])


def member_decision(receipt: Receipt, lang: str, *, status: str | None = None, balance: int | None = None,
                    rewards=None) -> tuple[str, object]:
    """What the member reads about the decision, and a button to start again after a rejection.

    `status`, `balance`, `rewards`: as at the decision (app.services.receipt_announcements carries them to the
    delivery); by default the receipt's status, the member's balance and `receipt.rewards` now.
    """
    member, tenant = receipt.member, receipt.member.tenant
    status = status or receipt.status
    balance = member.balance if balance is None else balance
    bought = receipts.purchase_of(receipt) if receipt.plan_id else None
    if rewards is None:
        rewards = getattr(receipt, "rewards", None)  # set by receipts.approve in this process, else None
    if status == ReceiptStatus.APPROVED.value and bought is not None:
        end = fmt.date(lang, bought.ends_at, tenant.timezone)
        text = t(lang, "payments.approved_plan", code=receipt.tracking_code, plan=receipt.plan.name, end=end)
        return with_rewards(text, lang, rewards), None
    if status == ReceiptStatus.APPROVED.value:
        text = t(lang, "payments.approved_topup", code=receipt.tracking_code, amount=fmt.money(lang, receipt.amount),
                 balance=fmt.money(lang, balance))
        return with_rewards(text, lang, rewards), None
    again = f"pc:{receipt.plan_id}" if receipt.plan_id else f"tu:{receipt.amount}"
    text = t(lang, "payments.rejected", code=receipt.tracking_code, reason=receipt.reject_reason or "-")
    return text, keyboard([button(t(lang, "payments.try_again"), again)])
