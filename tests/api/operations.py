"""Every API operation with a request built from a world's ids: the isolation test and the scope matrix use it.

A test fails when an operation is added without a row here (tests/api/test_isolation.py checks url_map).
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.models import PaymentCard, Plan, Promocode, WebhookDelivery
from app.services import receipts, subscriptions, tickets, webhooks, xp


@dataclass(frozen=True)
class Operation:
    endpoint: str
    method: str
    url: str  # str.format'ed with the world's ids
    body: dict | None = None
    #: How another tenant's id reaches it: in the path/query (404), or None (lists: the rows just do not show).
    foreign: bool = True

    def request(self, client, ids: dict, key: str = "isolation"):
        url = "/api/v1" + self.url.format(**ids)
        body = None if self.body is None else {k: (v.format(**ids) if isinstance(v, str) and "{" in v else v)
                                               for k, v in self.body.items()}
        body = {k: (int(v) if isinstance(v, str) and v.isdigit() else v) for k, v in (body or {}).items()}
        headers = {"Idempotency-Key": key}
        if self.method == "GET":
            return client.get(url, headers=headers)
        return getattr(client, self.method.lower())(url, json=body, headers=headers)


T = "{telegram_id}"
OPERATIONS = [
    Operation("api.list_bots", "GET", "/bots", foreign=False),
    Operation("api.create_bot", "POST", "/bots", {"token": "1:short"}, foreign=False),
    Operation("api.get_bot", "GET", "/bots/{bot_id}"),
    Operation("api.patch_bot", "PATCH", "/bots/{bot_id}", {"is_active": False}),
    Operation("api.delete_bot", "DELETE", "/bots/{bot_id}"),
    Operation("api.activate_bot", "POST", "/bots/{bot_id}/activate"),
    Operation("api.deactivate_bot", "POST", "/bots/{bot_id}/deactivate"),
    Operation("api.list_config", "GET", "/bots/{bot_id}/config"),
    Operation("api.get_config", "GET", "/bots/{bot_id}/config/welcome_text"),
    Operation("api.put_config", "PUT", "/bots/{bot_id}/config/support_contact", {"value": "@help"}),
    Operation("api.delete_config", "DELETE", "/bots/{bot_id}/config/support_contact"),
    Operation("api.list_features", "GET", "/bots/{bot_id}/features"),
    Operation("api.get_feature", "GET", "/bots/{bot_id}/features/referrals"),
    Operation("api.put_feature", "PUT", "/bots/{bot_id}/features/referrals", {"enabled": False}),
    Operation("api.delete_feature", "DELETE", "/bots/{bot_id}/features/referrals"),
    Operation("api.resend_delivery", "POST", "/deliveries/{delivery_id}/resend"),
    Operation("api.get_leaderboard", "GET", "/leaderboard", foreign=False),
    Operation("api.list_members", "GET", "/members", foreign=False),
    Operation("api.create_member", "POST", "/members", {"telegram_id": 123456789}, foreign=False),
    Operation("api.get_member", "GET", f"/members/{T}"),
    Operation("api.patch_member", "PATCH", f"/members/{T}", {"vip_level": 3}),
    Operation("api.list_badges", "GET", f"/members/{T}/badges"),
    Operation("api.award_badge", "POST", f"/members/{T}/badges", {"code": "streak_7"}),
    Operation("api.get_balance", "GET", f"/members/{T}/balance"),
    Operation("api.credit", "POST", f"/members/{T}/balance/credit", {"amount": 10, "reason": "x"}),
    Operation("api.debit", "POST", f"/members/{T}/balance/debit", {"amount": 10, "reason": "x"}),
    Operation("api.entitlement", "GET", f"/members/{T}/entitlement?bot_id={{bot_id}}"),
    Operation("api.get_ledger", "GET", f"/members/{T}/ledger"),
    Operation("api.consume", "POST", f"/members/{T}/quota/consume", {"bot_id": "{bot_id}"}),
    Operation("api.get_rank", "GET", f"/members/{T}/rank"),
    Operation("api.get_session", "GET", f"/members/{T}/sessions/{{bot_id}}"),
    Operation("api.put_session", "PUT", f"/members/{T}/sessions/{{bot_id}}", {"stats_data": {"x": 1}}),
    Operation("api.grant_subscription", "POST", f"/members/{T}/subscriptions", {"plan_id": "{plan_id}"}),
    Operation("api.report_usage", "POST", f"/members/{T}/usage", {"traffic_bytes": 1000}),
    Operation("api.give_xp", "POST", f"/members/{T}/xp", {"amount": 5, "reason": "x"}),
    Operation("api.list_plans", "GET", "/plans", foreign=False),
    Operation("api.list_promocodes", "GET", "/promocodes", foreign=False),
    Operation("api.create_promocode", "POST", "/promocodes", {"code": "NEWONE", "kind": "plan_days", "value": 3,
                                                             "plan_id": "{plan_id}"}),
    Operation("api.list_receipts", "GET", "/receipts", foreign=False),
    Operation("api.approve_receipt", "POST", "/receipts/{receipt_id}/approve", {}),
    Operation("api.reject_receipt", "POST", "/receipts/{receipt_id}/reject", {"reason": "no"}),
    Operation("api.post_bank_message", "POST", "/bank-messages",
              {"sender": "Bank Mellat", "text": "بانک ملت\nانتقال:9,990+\nکارت:6037****0001\n1403/09/10-14:25"},
              foreign=False),
    Operation("api.list_subscriptions", "GET", "/subscriptions", foreign=False),
    Operation("api.list_endpoints", "GET", "/webhook-endpoints", foreign=False),
    Operation("api.create_endpoint", "POST", "/webhook-endpoints", {"url": "http://127.0.0.1:9/x"}, foreign=False),
    Operation("api.delete_endpoint", "DELETE", "/webhook-endpoints/{endpoint_id}"),
    Operation("api.list_deliveries", "GET", "/webhook-endpoints/{endpoint_id}/deliveries"),
    Operation("api.list_tickets", "GET", "/tickets", foreign=False),
    Operation("api.reply_ticket", "POST", "/tickets/{ticket_id}/reply", {"text": "Here is your link."}),
]


def build_tenant_world(db, make, tenant, telegram_id: int) -> dict:
    """One of every row the API addresses, in `tenant`; their ids."""
    bot, plan = make.bot(tenant), make.plan(tenant, traffic_gb=5)
    make.card(tenant)
    member = make.member(tenant, telegram_id=telegram_id, balance=5_000)
    subscriptions.grant_or_extend(member, plan, source="grant")
    xp.add_xp(member, 50)
    receipt = receipts.open_invoice(member, amount=20_000)
    receipts.submit(receipt, text="ref")
    endpoint, _ = webhooks.create_endpoint(tenant, "http://127.0.0.1:9/hook")
    db.session.commit()
    make.member(tenant, telegram_id=telegram_id + 1)  # emits member.created: a delivery to resend
    delivery_id = db.session.scalar(sa.select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint.id))
    db.session.add(Promocode(tenant_id=tenant.id, code=f"P{telegram_id}", kind="xp", value=1))
    ticket = tickets.open_ticket(member, bot, text="Where is my link?")
    db.session.commit()
    return {"ticket_id": ticket.id, "bot_id": bot.id, "plan_id": plan.id, "telegram_id": telegram_id, "receipt_id": receipt.id,
            "endpoint_id": endpoint.id, "delivery_id": delivery_id}


def snapshot(db, tenant_id: int) -> list:
    """Everything of a tenant an operation could change, as comparable rows."""
    from app.models import (
        ApiToken,
        Bot,
        BotSession,
        BotSetting,
        FeatureFlag,
        IdempotencyRecord,
        LedgerEntry,
        Member,
        MemberBadge,
        Receipt,
        Subscription,
        Tenant,
        Ticket,
        TicketMessage,
        WebhookEndpoint,
    )
    def rows(model, *columns, where=None):
        query = sa.select(*columns).order_by(columns[0])  # JSON columns have no ordering on Postgres
        return list(db.session.execute(query.where(where if where is not None else model.tenant_id == tenant_id)))
    bots = sa.select(Bot.id).where(Bot.tenant_id == tenant_id)
    return [
        rows(Member, Member.id, Member.balance, Member.vip_level, Member.is_banned, Member.total_xp,
             Member.language_code),
        rows(LedgerEntry, LedgerEntry.id), rows(Subscription, Subscription.id, Subscription.traffic_used_bytes),
        rows(Receipt, Receipt.id, Receipt.status), rows(Bot, Bot.id, Bot.is_active, Bot.config_version),
        rows(BotSetting, BotSetting.id, BotSetting.value, where=BotSetting.bot_id.in_(bots)),
        rows(FeatureFlag, FeatureFlag.id, FeatureFlag.enabled, where=FeatureFlag.bot_id.in_(bots)),
        rows(BotSession, BotSession.id, BotSession.version, BotSession.daily_requests),
        rows(MemberBadge, MemberBadge.id), rows(WebhookEndpoint, WebhookEndpoint.id),
        rows(WebhookDelivery, WebhookDelivery.id), rows(Promocode, Promocode.id), rows(Plan, Plan.id),
        rows(IdempotencyRecord, IdempotencyRecord.id), rows(PaymentCard, PaymentCard.id),
        rows(Tenant, Tenant.wallet_balance, Tenant.traffic_consumed_bytes, where=Tenant.id == tenant_id),
        rows(ApiToken, ApiToken.id), rows(Ticket, Ticket.id, Ticket.status), rows(TicketMessage, TicketMessage.id),
    ]
