"""Plans, subscriptions (list and grant), receipts (list and decide), promocodes."""
from __future__ import annotations

import sqlalchemy as sa

from app.api import bp
from app.api.auth import requires, tenant, token
from app.api.idempotency import idempotent, key
from app.api.lookups import member_or_404, row_id, subscription_out
from app.api.pagination import page
from app.api.schemas import IdempotencyHeader, PageQuery, SubscriptionOut, page_of
from app.api.schemas_admin import (
    ApproveIn,
    GrantIn,
    PlanList,
    PlanOut,
    PromocodeCreate,
    PromocodeOut,
    ReceiptOut,
    ReceiptQuery,
    RejectIn,
    SubscriptionQuery,
)
from app.extensions import db
from app.models import Member, Promocode, Receipt, Subscription
from app.services import audit, plans, promocodes, receipt_announcements, receipts

TAG = "Commerce"


@bp.get("/plans")
@requires("read")
@bp.output(PlanList)
@bp.doc(tags=[TAG], summary="The plans on sale, in the owner's order")
def list_plans():
    return {"items": PlanOut(many=True).dump(plans.active_plans(tenant()))}


@bp.get("/subscriptions")
@requires("read")
@bp.input(SubscriptionQuery, location="query")
@bp.output(page_of(SubscriptionOut, "SubscriptionPage"))
@bp.doc(tags=[TAG], summary="Subscriptions, newest first; filter by telegram_id and status")
def list_subscriptions(query_data):
    query = (sa.select(Subscription, Member.telegram_id).join(Member, Member.id == Subscription.member_id)
             .where(Subscription.tenant_id == tenant().id))
    if query_data.get("telegram_id"):
        query = query.where(Member.telegram_id == query_data["telegram_id"])
    if query_data.get("status"):
        query = query.where(Subscription.status == query_data["status"])
    items, after = page(query, Subscription.id, limit=query_data["limit"], after=query_data.get("after"))
    return {"items": [subscription_out(s) for s in items], "next": after}


@bp.post("/members/<int:telegram_id>/subscriptions")
@requires("money")
@idempotent
@bp.input(IdempotencyHeader, location="headers", arg_name="headers")
@bp.input(GrantIn)
@bp.output(SubscriptionOut, status_code=201)
@bp.doc(tags=[TAG], summary="Grant a plan sold elsewhere (wallet charge and traffic as in a sale)")
def grant_subscription(telegram_id: int, json_data, headers):
    member = member_or_404(telegram_id)
    plan = plans.get_plan(tenant(), json_data["plan_id"])
    subscription = plans.grant_paid_elsewhere(member, plan, key=key(), actor=audit.actor_of(token()),
                                              days=json_data.get("days"))
    return subscription_out(subscription, member.telegram_id)


@bp.get("/receipts")
@requires("receipts")
@bp.input(ReceiptQuery, location="query")
@bp.output(page_of(ReceiptOut, "ReceiptPage"))
@bp.doc(tags=[TAG], summary="Card-to-card receipts, newest first")
def list_receipts(query_data):
    query = sa.select(Receipt).where(Receipt.tenant_id == tenant().id)
    if query_data.get("status"):
        query = query.where(Receipt.status == query_data["status"])
    items, after = page(query, Receipt.id, limit=query_data["limit"], after=query_data.get("after"))
    return {"items": [_receipt_out(r) for r in items], "next": after}


@bp.post("/receipts/<int:receipt_id>/approve")
@requires("receipts")
@bp.input(ApproveIn)
@bp.output(ReceiptOut)
@bp.doc(tags=[TAG], summary="Approve a receipt under review (credits the member once)")
def approve_receipt(receipt_id: int, json_data):
    receipt = receipts.approve(_receipt_or_404(receipt_id), receipts.Reviewer(api_token=token()),
                               amount=json_data.get("amount"))
    receipt_announcements.announce_decision(receipt)  # queued in this transaction; sent by the outbox after the commit
    return _receipt_out(receipt)


@bp.post("/receipts/<int:receipt_id>/reject")
@requires("receipts")
@bp.input(RejectIn)
@bp.output(ReceiptOut)
@bp.doc(tags=[TAG], summary="Reject a receipt under review, with the reason the member reads")
def reject_receipt(receipt_id: int, json_data):
    receipt = receipts.reject(_receipt_or_404(receipt_id), receipts.Reviewer(api_token=token()),
                              json_data["reason"])
    receipt_announcements.announce_decision(receipt)  # queued in this transaction; sent by the outbox after the commit
    return _receipt_out(receipt)


@bp.get("/promocodes")
@requires("read")
@bp.input(PageQuery, location="query")
@bp.output(page_of(PromocodeOut, "PromocodePage"))
@bp.doc(tags=[TAG], summary="Promo codes, newest first")
def list_promocodes(query_data):
    items, after = page(sa.select(Promocode).where(Promocode.tenant_id == tenant().id), Promocode.id,
                        limit=query_data["limit"], after=query_data.get("after"))
    return {"items": items, "next": after}


@bp.post("/promocodes")
@requires("money")
@bp.input(PromocodeCreate)
@bp.output(PromocodeOut, status_code=201)
@bp.doc(tags=[TAG], summary="Create a promo code")
def create_promocode(json_data):
    plan = plans.get_plan(tenant(), json_data["plan_id"]) if json_data.get("plan_id") else None
    return promocodes.create_promocode(tenant(), code=json_data["code"], kind=json_data["kind"],
                                       value=json_data["value"], plan=plan, max_uses=json_data.get("max_uses"),
                                       expires_at=json_data.get("expires_at"), by=token())


def _receipt_or_404(receipt_id: int) -> Receipt:
    return receipts.get_receipt(tenant(), row_id(receipt_id))


def _receipt_out(receipt: Receipt) -> dict:
    telegram_id = db.session.scalar(sa.select(Member.telegram_id).where(Member.id == receipt.member_id))
    return {**{c: getattr(receipt, c) for c in ("id", "tracking_code", "purpose", "plan_id", "amount", "status",
                                                "text", "created_at", "submitted_at", "reviewed_at",
                                                "reject_reason")}, "telegram_id": telegram_id}
