"""The events sibling services receive (docs/api.md lists them), built from the rows that changed."""
from __future__ import annotations

from app.extensions import db
from app.models import LedgerEntry, Member, Receipt, Subscription
from app.services import webhooks


def member_created(member: Member) -> None:
    webhooks.emit(member.tenant_id, "member.created", _member(member))


def subscription_changed(event: str, subscription: Subscription) -> None:
    """subscription.activated / extended / changed / expired / limited / cancelled."""
    member = db.session.get(Member, subscription.member_id)
    webhooks.emit(subscription.tenant_id, event, {
        "subscription_id": subscription.id, "telegram_id": member.telegram_id, "plan_id": subscription.plan_id,
        "plan_name": subscription.plan.name, "status": subscription.status, "source": subscription.source,
        "starts_at": subscription.starts_at.isoformat(), "ends_at": subscription.ends_at.isoformat(),
        "traffic_limit_bytes": subscription.traffic_limit_bytes,
        "traffic_used_bytes": subscription.traffic_used_bytes})


def receipt_changed(event: str, receipt: Receipt) -> None:
    """receipt.submitted / approved / rejected."""
    webhooks.emit(receipt.tenant_id, *receipt_event(event, receipt))


def receipt_event(event: str, receipt: Receipt) -> tuple[str, dict]:
    member = db.session.get(Member, receipt.member_id)
    return event, {
        "receipt_id": receipt.id, "telegram_id": member.telegram_id, "tracking_code": receipt.tracking_code,
        "purpose": receipt.purpose, "plan_id": receipt.plan_id, "amount": receipt.amount, "status": receipt.status,
        "reject_reason": receipt.reject_reason}


def balance_changed(entry: LedgerEntry) -> None:
    webhooks.emit(entry.tenant_id, *balance_event(entry))


def balance_event(entry: LedgerEntry) -> tuple[str, dict]:
    member = db.session.get(Member, entry.member_id)
    return "balance.changed", {
        "telegram_id": member.telegram_id, "amount": entry.amount, "balance": entry.balance_after,
        "kind": entry.kind, "ledger_entry_id": entry.id}


def _member(member: Member) -> dict:
    return {"telegram_id": member.telegram_id, "username": member.username, "first_name": member.first_name,
            "last_name": member.last_name, "language": member.language_code}


def payment_succeeded(payment, *, plan_sold: bool) -> None:
    """An online payment (Zarinpal) verified and credited: a member's top-up or plan, or the tenant wallet."""
    member = db.session.get(Member, payment.member_id) if payment.member_id is not None else None
    webhooks.emit(payment.tenant_id, "payment.succeeded", {
        "payment_id": payment.id, "gateway": payment.gateway, "order_code": payment.order_code,
        "ref_id": payment.ref_id, "amount": payment.amount, "purpose": payment.purpose, "plan_id": payment.plan_id,
        "plan_sold": plan_sold, "telegram_id": member.telegram_id if member else None})
