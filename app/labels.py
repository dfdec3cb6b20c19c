"""Every stored code the dashboard shows (statuses, kinds, sources, audit actions, roles), as a translated label.

Templates call `label(group, code)`; an unknown code shows as itself (the fa page test then fails on it).
`audit_details(entry)` renders an audit entry's data readably: labelled keys, Persian text as text.
"""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from app.i18n import local_digits

LABELS: dict[str, dict[str, Any]] = {
    #: Why a bank SMS was not approved by itself (a parser's refusal is shown as it is).
    "bank_reason": {
        "no open invoice matches": _l("no open invoice matches"),
        "several open invoices match": _l("several open invoices match"),
        "the tenant approves bank SMS matches by hand": _l("the tenant approves bank SMS matches by hand"),
        "the receipt is flagged as reused": _l("the receipt is flagged as reused")},
    "receipt_status": {
        "pending_review": _l("waiting for review"), "awaiting_receipt": _l("waiting for the member's receipt"),
        "approved": _l("approved"), "rejected": _l("rejected"), "expired": _l("expired"),
        "cancelled": _l("cancelled")},
    "receipt_purpose": {"topup": _l("top-up"), "plan": _l("plan purchase")},
    "subscription_status": {"active": _l("active"), "limited": _l("traffic used up"), "expired": _l("expired"),
                            "cancelled": _l("cancelled")},
    "subscription_source": {"balance": _l("bought with balance"), "receipt": _l("card-to-card payment"),
                            "promocode": _l("promo code"), "grant": _l("granted"), "online": _l("online payment"),
                            "stars": _l("Telegram Stars")},
    "ledger_kind": {
        "adjustment": _l("manual adjustment"), "topup": _l("top-up"), "purchase": _l("plan purchase"),
        "promocode": _l("promo code"), "referral_bonus": _l("referral bonus"), "wholesale": _l("wholesale charge"),
        "wallet_topup": _l("wallet top-up"), "opening_balance": _l("opening balance"), "imported": _l("imported"),
        "api_credit": _l("credit via API"), "api_debit": _l("debit via API"), "online_topup": _l("online top-up"),
        "online_payment": _l("online payment"), "refund": _l("refund"), "stars_refund": _l("Stars refund"),
        "wallet_receipt": _l("wallet top-up by card")},
    "grant_state": {"invited": _l("invited"), "joined": _l("joined"), "removing": _l("being removed"),
                    "removed": _l("removed")},
    "star_payment_status": {"paid": _l("paid"), "refunding": _l("refund on its way"), "refunded": _l("refunded")},
    "chat_type": {"channel": _l("channel"), "group": _l("group"), "supergroup": _l("group")},
    "ledger_account": {"member_balance": _l("member balance"), "tenant_wallet": _l("tenant wallet")},
    "role": {"owner": _l("owner"), "approver": _l("approver"), "viewer": _l("viewer"), "support": _l("support")},
    "bot_status": {"running": _l("running"), "stopped": _l("stopped"), "error": _l("error")},
    "promocode_kind": {"balance": _l("Balance (Toman)"), "plan_days": _l("Days of a plan"),
                       "discount_percent": _l("Discount (percent)"), "xp": _l("XP")},
    "promocode_state": {"active": _l("active"), "disabled": _l("disabled"), "expired": _l("expired"),
                        "used_up": _l("used up")},
    "panel_user_status": {"pending": _l("being created"), "active": _l("active"), "disabled": _l("disabled"),
                          "deleted": _l("deleted"), "failed": _l("failed")},
    "delivery_status": {"pending": _l("waiting to be sent"), "delivered": _l("delivered"), "failed": _l("failed")},
    "broadcast_status": {"draft": _l("draft"), "sending": _l("sending"), "paused": _l("paused"), "done": _l("done"),
                         "cancelled": _l("cancelled")},
    "broadcast_segment": {"all": _l("All members"), "active": _l("Active subscribers"),
                          "expired": _l("Expired in the last N days"), "never_bought": _l("Never bought")},
    "online_status": {"pending": _l("waiting for payment"), "paid": _l("paid"), "failed": _l("failed")},
    "audit_action": {
        "api_token.create": _l("API token created"), "api_token.revoke": _l("API token revoked"),
        "bot.connect": _l("bot connected"), "bot.enable": _l("bot enabled"), "bot.disable": _l("bot disabled"),
        "bot.remove": _l("bot removed"), "bot.settings": _l("bot settings changed"),
        "bot.feature_reset": _l("bot feature reset"), "card.create": _l("card added"), "card.update": _l("card changed"),
        "card.rotation": _l("card rotation changed"), "jobs.daily_reset": _l("daily reset"),
        "member.adjust_balance": _l("balance adjusted"), "member.ban": _l("member banned"),
        "member.unban": _l("member unbanned"), "member.grant_subscription": _l("subscription granted"),
        "member.cancel_subscription": _l("subscription cancelled"), "member.change_plan": _l("subscription plan changed"),
        "online_payment.paid": _l("online payment received"), "online_payment.failed": _l("online payment failed"),
        "panel.create": _l("panel added"), "panel.update": _l("panel changed"), "panel.map_plan": _l("plan mapped to panel"),
        "platform.create_tenant": _l("tenant created"), "platform.settings": _l("platform settings changed"),
        "promocode.create": _l("promo code created"), "promocode.disable": _l("promo code disabled"),
        "receipt.approve": _l("receipt approved"), "receipt.reject": _l("receipt rejected"),
        "settings.update": _l("settings changed"), "staff.invite": _l("staff invited"), "staff.join": _l("staff joined"),
        "staff.revoke_invitation": _l("invitation revoked"), "wallet.sale_refused": _l("sale refused: wallet empty"),
        "wallet.topup": _l("wallet topped up"),
        "wallet.receipt_submit": _l("wallet top-up receipt sent"),
        "wallet.receipt_approve": _l("wallet top-up receipt approved"),
        "wallet.receipt_reject": _l("wallet top-up receipt rejected"),
        "wallet.receipt_cancel": _l("wallet top-up receipt withdrawn"),
        "platform_card.create": _l("platform card added"), "platform_card.update": _l("platform card changed"), "wallet.wholesale_prices": _l("wholesale prices changed"),
        "webhook.create": _l("webhook added"), "webhook.delete": _l("webhook removed"),
        "zarinpal.merchant_set": _l("Zarinpal merchant set"), "zarinpal.merchant_cleared": _l("Zarinpal merchant removed"),
        "chat.connect": _l("chat connected"), "chat.disconnect": _l("chat disconnected"),
        "stars.sale": _l("sold for Stars"), "stars.renewal": _l("Stars subscription renewed"),
        "stars.refund": _l("Stars payment refunded"),
        "broadcast.create": _l("broadcast composed"), "broadcast.confirm": _l("broadcast confirmed"),
        "broadcast.pause": _l("broadcast paused"), "broadcast.resume": _l("broadcast resumed"),
        "broadcast.cancel": _l("broadcast cancelled"),
        "plan.create": _l("plan created"), "plan.update": _l("plan changed"), "plan.archive": _l("plan archived")},
    "card_rotation": {
        "round_robin": _l("Round robin: the least recently shown card"), "random": _l("Random"),
        "weighted": _l("Weighted: by each card's weight"),
        "time_based": _l("Time based: one card for everybody for N minutes"),
        "least_received": _l("Least received today: spread money over cards")},
    "notice": {"wallet_insufficient": _l("Your wallet cannot cover the wholesale price of a sale, so members cannot "
                                         "buy plans. Top up your wallet."),
               "platform_receipt_approved": _l("The platform approved your card-to-card top-up; your wallet was "
                                               "credited."),
               "platform_receipt_rejected": _l("The platform rejected your card-to-card top-up; the reason is on "
                                               "the wallet page.")},
    "audit_key": {
        "amount": _l("amount"), "reason": _l("reason"), "fields": _l("fields"), "changes": _l("changes"),
        "plan_id": _l("plan"), "days": _l("days"), "subscription_id": _l("subscription"), "username": _l("username"),
        "owner": _l("owner"), "role": _l("role"), "code": _l("code"), "kind": _l("kind"), "value": _l("value"),
        "ledger_entry": _l("ledger entry"), "strategy": _l("strategy"), "minutes": _l("minutes"), "key": _l("key"),
        "requested_amount": _l("requested amount"), "different_amount": _l("amount changed"),
        "purchase": _l("purchase"), "cost": _l("cost"), "wallet_balance": _l("wallet balance"),
        "purpose": _l("purpose"), "source": _l("source"), "status": _l("status"), "hint": _l("hint"),
        "keys": _l("keys"), "email": _l("email"), "name": _l("name"), "price": _l("price"),
        "plan_name": _l("plan"), "receipt_id": _l("receipt"), "member_id": _l("member"),
        "stars": _l("Stars"), "chat_id": _l("chat")},
}
#: Audit data keys whose values are codes of a label group.
VALUE_GROUPS = {"role": "role", "purpose": "receipt_purpose", "source": "subscription_source", "kind": "ledger_kind",
                "status": "subscription_status", "strategy": "card_rotation"}


def label(group: str, code: Any) -> Any:
    """The translated label of `code` in `group`, else the code itself."""
    if code is None:
        return "—"
    return LABELS[group].get(str(code), code)


def choices(group: str, codes=None) -> list[tuple[str, Any]]:
    """(code, label) pairs for a select field."""
    return [(code, text) for code, text in LABELS[group].items() if codes is None or code in codes]


def audit_details(data: dict | None) -> list[tuple[Any, str]]:
    """An audit entry's data as (label, readable value) pairs; lists joined, nested changes as `key: value`."""
    return [(label("audit_key", key), _readable(value, key)) for key, value in sorted((data or {}).items())]


def _readable(value, key: str | None = None) -> str:
    if isinstance(value, dict):
        return "، ".join(f"{label('audit_key', k)}: {_readable(item, k)}" for k, item in value.items())
    if isinstance(value, (list, tuple)):
        return "، ".join(_readable(item, key) for item in value)
    if isinstance(value, str) and key in VALUE_GROUPS:
        return str(label(VALUE_GROUPS[key], value))
    if isinstance(value, bool):
        return str(_l("yes") if value else _l("no"))
    if isinstance(value, int):
        return local_digits(f"{value:,}")
    return "—" if value is None else str(value)


def init_app(app: Flask) -> None:
    from app.services.promocodes import state as promocode_state

    app.jinja_env.globals.update(label=label, audit_details=audit_details, promocode_state=promocode_state,
                                 notice_kinds=LABELS["notice"])
