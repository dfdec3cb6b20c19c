"""Balance, ledger, entitlement, daily quota and usage: what a paid service checks and spends."""
from __future__ import annotations

from app.api import bp
from app.api.auth import requires, tenant, token
from app.api.idempotency import idempotent, key
from app.api.lookups import bot_or_404, member_or_404, subscription_out
from app.api.pagination import page
from app.api.schemas import (
    BalanceOut,
    EntitlementOut,
    EntitlementQuery,
    IdempotencyHeader,
    LedgerEntryOut,
    MoneyMove,
    OptionalIdempotencyHeader,
    PageQuery,
    QuotaConsume,
    QuotaOut,
    UsageIn,
    UsageOut,
    page_of,
)
from app.models import LedgerEntry
from app.services import audit, ledger, member_queries, quota, sessions, usage
from app.services.subscriptions import active_subscription

TAG = "Balance and quota"


@bp.get("/members/<int:telegram_id>/balance")
@requires("read")
@bp.output(BalanceOut)
@bp.doc(tags=[TAG], summary="The member's balance (Toman)")
def get_balance(telegram_id: int):
    member = member_or_404(telegram_id)
    return {"telegram_id": member.telegram_id, "balance": member.balance}


@bp.post("/members/<int:telegram_id>/balance/credit")
@requires("money")
@idempotent
@bp.input(IdempotencyHeader, location="headers", arg_name="headers")
@bp.input(MoneyMove)
@bp.output(LedgerEntryOut, status_code=201)
@bp.doc(tags=[TAG], summary="Credit the balance; returns the ledger entry")
def credit(telegram_id: int, json_data, headers):
    member = member_or_404(telegram_id)
    return ledger.credit_member(member, json_data["amount"], key=key(), kind="api_credit",
                                note=json_data["reason"], actor=audit.actor_of(token()))


@bp.post("/members/<int:telegram_id>/balance/debit")
@requires("money")
@idempotent
@bp.input(IdempotencyHeader, location="headers", arg_name="headers")
@bp.input(MoneyMove)
@bp.output(LedgerEntryOut, status_code=201)
@bp.doc(tags=[TAG], summary="Debit the balance; 409 insufficient_balance below zero")
def debit(telegram_id: int, json_data, headers):
    member = member_or_404(telegram_id)
    return ledger.debit_member(member, json_data["amount"], key=key(), kind="api_debit",
                               note=json_data["reason"], actor=audit.actor_of(token()))


@bp.get("/members/<int:telegram_id>/ledger")
@requires("read")
@bp.input(PageQuery, location="query")
@bp.output(page_of(LedgerEntryOut, "LedgerPage"))
@bp.doc(tags=[TAG], summary="The member's ledger entries, newest first")
def get_ledger(telegram_id: int, query_data):
    query = member_queries.ledger_query(member_or_404(telegram_id))
    items, after = page(query, LedgerEntry.id, limit=query_data["limit"], after=query_data.get("after"))
    return {"items": items, "next": after}


@bp.get("/members/<int:telegram_id>/entitlement")
@requires("read")
@bp.input(EntitlementQuery, location="query")
@bp.output(EntitlementOut)
@bp.doc(tags=[TAG], summary="Active subscription, VIP, and today's quota in a bot")
def entitlement(telegram_id: int, query_data):
    member = member_or_404(telegram_id)
    subscription = active_subscription(member)
    quota_out = None
    if query_data.get("bot_id") is not None:
        session = sessions.find_session(member, bot_or_404(query_data["bot_id"]))
        used = quota.usage(session, member, tenant(), subscription) if session else None
        limit = quota.daily_limit(member, tenant(), subscription)
        quota_out = _quota(used.used if used else 0, limit, quota.next_reset(tenant()))
    return {"telegram_id": member.telegram_id, "subscription": subscription_out(subscription, member.telegram_id),
            "vip_level": member.vip_level, "is_banned": member.is_banned, "quota": quota_out}


@bp.post("/members/<int:telegram_id>/quota/consume")
@requires("money")
@idempotent(required=False)
@bp.input(OptionalIdempotencyHeader, location="headers", arg_name="headers")
@bp.input(QuotaConsume)
@bp.output(QuotaOut)
@bp.doc(tags=[TAG], summary="Spend today's requests in a bot; 429 quota_exhausted with the reset time")
def consume(telegram_id: int, json_data, headers):
    member = member_or_404(telegram_id)
    use = quota.consume_in_bot(member, bot_or_404(json_data["bot_id"]), tenant(), active_subscription(member),
                               json_data["count"])
    return _quota(use.used, use.limit, use.resets_at)


@bp.post("/members/<int:telegram_id>/usage")
@requires("money")
@idempotent(required=False)
@bp.input(OptionalIdempotencyHeader, location="headers", arg_name="headers")
@bp.input(UsageIn)
@bp.output(UsageOut)
@bp.doc(tags=[TAG], summary="Report traffic used on the live subscription (limited at its cap)")
def report_usage(telegram_id: int, json_data, headers):
    member = member_or_404(telegram_id)
    recorded = usage.record_traffic(member, json_data["traffic_bytes"])
    return {"subscription": subscription_out(recorded.subscription, member.telegram_id),
            "became_limited": recorded.became_limited}


def _quota(used: int, limit: int, resets_at) -> dict:
    return {"used": used, "limit": limit, "remaining": max(0, limit - used), "resets_at": resets_at}
