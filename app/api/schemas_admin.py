"""Schemas of the tenant-administration resources: bots, commerce, webhooks."""
from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, DateTime, Dict, Integer, List, Raw, String
from apiflask.validators import Length, OneOf, Range

from app.api.schemas import MAX_ID, MAX_TELEGRAM_ID, MAX_TOMAN, PageQuery, Strict
from app.models import PromocodeKind, ReceiptStatus, SubscriptionStatus
from app.services import webhooks


class BotOut(Schema):
    id = Integer(required=True)
    username = String(required=True)
    first_name = String(allow_none=True)
    telegram_bot_id = Integer(required=True)
    is_active = Boolean(required=True)
    status = String(required=True)
    token_hint = String(required=True, metadata={"description": "Last 4 characters; the token is never returned."})
    created_at = DateTime(required=True)


class BotCreate(Strict):
    token = String(required=True, validate=Length(5, 200), metadata={"description": "Checked with getMe."})


class BotPatch(Strict):
    is_active = Boolean()


class FeatureOut(Schema):
    key = String(required=True)
    enabled = Boolean(required=True)
    config = Dict(required=True)


class FeatureList(Schema):
    items = List(Raw(), required=True)


class FeaturePut(Strict):
    enabled = Boolean(required=True)
    config = Dict(load_default=dict)


class ConfigItem(Schema):
    key = String(required=True)
    value = Raw(required=True, allow_none=True)


class ConfigList(Schema):
    items = List(Raw(), required=True)


class ConfigPut(Strict):
    value = Raw(required=True, allow_none=True, metadata={"description": "Any JSON value."})


class PlanOut(Schema):
    id = Integer(required=True)
    name = String(required=True)
    description = String(allow_none=True)
    period_days = Integer(required=True)
    price = Integer(required=True)
    traffic_gb = Integer(allow_none=True)
    daily_request_quota = Integer(allow_none=True)


class PlanList(Schema):
    items = List(Raw(), required=True)


class SubscriptionQuery(PageQuery):
    telegram_id = Integer(validate=Range(1, MAX_TELEGRAM_ID))
    status = String(validate=OneOf([s.value for s in SubscriptionStatus]))


class GrantIn(Strict):
    plan_id = Integer(required=True, validate=Range(1, MAX_ID))
    days = Integer(validate=Range(1, 3650), allow_none=True)


class ReceiptOut(Schema):
    id = Integer(required=True)
    tracking_code = String(required=True)
    telegram_id = Integer(required=True)
    purpose = String(required=True)
    plan_id = Integer(allow_none=True)
    amount = Integer(required=True)
    status = String(required=True)
    text = String(allow_none=True)
    created_at = DateTime(required=True)
    submitted_at = DateTime(allow_none=True)
    reviewed_at = DateTime(allow_none=True)
    reject_reason = String(allow_none=True)


class ReceiptQuery(PageQuery):
    status = String(validate=OneOf([s.value for s in ReceiptStatus]))


class ApproveIn(Strict):
    amount = Integer(validate=Range(1, MAX_TOMAN), allow_none=True,
                     metadata={"description": "Credit a different amount than invoiced."})


class RejectIn(Strict):
    reason = String(required=True, validate=Length(1, 500))


class PromocodeOut(Schema):
    id = Integer(required=True)
    code = String(required=True)
    kind = String(required=True)
    value = Integer(required=True)
    plan_id = Integer(allow_none=True)
    max_uses = Integer(allow_none=True)
    uses_count = Integer(required=True)
    expires_at = DateTime(allow_none=True)
    is_active = Boolean(required=True)


class PromocodeCreate(Strict):
    code = String(required=True, validate=Length(3, 32))
    kind = String(required=True, validate=OneOf([k.value for k in PromocodeKind]))
    value = Integer(required=True, validate=Range(1, MAX_TOMAN))
    plan_id = Integer(validate=Range(1, MAX_ID), allow_none=True)
    max_uses = Integer(validate=Range(1, 10**9), allow_none=True)
    expires_at = DateTime(allow_none=True)


class EndpointOut(Schema):
    id = Integer(required=True)
    url = String(required=True)
    description = String(allow_none=True)
    events = List(String(), required=True)
    is_active = Boolean(required=True)
    consecutive_failures = Integer(required=True)
    created_at = DateTime(required=True)


class EndpointCreated(EndpointOut):
    secret = String(required=True, metadata={"description": "Signing secret, shown once."})


class EndpointCreate(Strict):
    url = String(required=True, validate=Length(8, 500))
    events = List(String(validate=OneOf(webhooks.EVENTS)), load_default=list)
    description = String(validate=Length(max=200), allow_none=True)


class DeliveryOut(Schema):
    id = Integer(required=True)
    endpoint_id = Integer(required=True)
    event_id = String(required=True)
    event_type = String(required=True)
    status = String(required=True)
    attempts = Integer(required=True)
    last_status_code = Integer(allow_none=True)
    last_error = String(allow_none=True)
    created_at = DateTime(required=True)
    delivered_at = DateTime(allow_none=True)
