"""Request and response schemas (marshmallow): they validate requests and generate the OpenAPI document.

Unknown fields are refused (marshmallow's RAISE), so a typo is a 422, not a silently ignored field.
"""
from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, DateTime, Dict, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range, Regexp
from marshmallow import EXCLUDE, RAISE

from app.services import idempotency, leaderboard

MAX_ID = 2**31 - 1
MAX_TELEGRAM_ID = 2**62
MAX_TOMAN = 10**12
LANGUAGES = ("fa", "en", "ru")


class Strict(Schema):
    class Meta:
        unknown = RAISE


class PageQuery(Strict):
    limit = Integer(load_default=50, validate=Range(1, 200), metadata={"description": "At most 200."})
    after = String(validate=Length(max=40), metadata={"description": "The `next` of the previous page."})


def page_of(item_schema, name: str):
    """A page of items with the cursor of the next page (null on the last page)."""
    return Schema.from_dict({"items": List(Nested(item_schema), required=True),
                             "next": String(allow_none=True, required=True)}, name=name)


class IdempotencyHeader(Schema):
    class Meta:
        unknown = EXCLUDE

    idempotency_key = String(data_key="Idempotency-Key", required=True, validate=Length(1, idempotency.MAX_KEY),
                             metadata={"description": "Same key and body: the first response again."})


class OptionalIdempotencyHeader(Schema):
    class Meta:
        unknown = EXCLUDE

    idempotency_key = String(data_key="Idempotency-Key", validate=Length(1, idempotency.MAX_KEY),
                             metadata={"description": "Optional: with it, a retry returns the first response "
                                                      "instead of counting twice."})


# --- members ---------------------------------------------------------------------------------------------
class MemberOut(Schema):
    id = Integer(required=True)
    telegram_id = Integer(required=True)
    username = String(allow_none=True)
    first_name = String(allow_none=True)
    last_name = String(allow_none=True)
    language = String(attribute="language_code", allow_none=True)
    balance = Integer(required=True, metadata={"description": "Toman."})
    vip_level = Integer(required=True)
    is_banned = Boolean(required=True)
    total_xp = Integer(required=True)
    level = Integer(required=True)
    created_at = DateTime(required=True)


class MemberQuery(PageQuery):
    q = String(validate=Length(max=64), metadata={"description": "Prefix of a username or name."})


class MemberCreate(Strict):
    telegram_id = Integer(required=True, validate=Range(1, MAX_TELEGRAM_ID))
    username = String(validate=Length(max=64), allow_none=True)
    first_name = String(validate=Length(max=128), allow_none=True)
    last_name = String(validate=Length(max=128), allow_none=True)
    language = String(validate=OneOf(LANGUAGES), allow_none=True)


class MemberPatch(Strict):
    language = String(validate=OneOf(LANGUAGES))
    vip_level = Integer(validate=Range(0, 100))
    is_banned = Boolean()


# --- money -----------------------------------------------------------------------------------------------
class BalanceOut(Schema):
    telegram_id = Integer(required=True)
    balance = Integer(required=True)


class MoneyMove(Strict):
    amount = Integer(required=True, validate=Range(1, MAX_TOMAN), metadata={"description": "Toman, > 0."})
    reason = String(required=True, validate=Length(1, 300))


class LedgerEntryOut(Schema):
    id = Integer(required=True)
    amount = Integer(required=True, metadata={"description": "Signed Toman."})
    balance_after = Integer(required=True)
    kind = String(required=True)
    note = String(allow_none=True)
    actor = String(allow_none=True)
    created_at = DateTime(required=True)


class QuotaOut(Schema):
    used = Integer(required=True)
    limit = Integer(required=True)
    remaining = Integer(required=True)
    resets_at = DateTime(required=True)


class SubscriptionOut(Schema):
    id = Integer(required=True)
    telegram_id = Integer(required=True)
    plan_id = Integer(required=True)
    plan_name = String(required=True)
    status = String(required=True)
    starts_at = DateTime(required=True)
    ends_at = DateTime(required=True)
    traffic_limit_bytes = Integer(allow_none=True)
    traffic_used_bytes = Integer(required=True)
    source = String(required=True)


class EntitlementQuery(Strict):
    bot_id = Integer(validate=Range(1, MAX_ID), metadata={"description": "For today's request quota."})


class EntitlementOut(Schema):
    telegram_id = Integer(required=True)
    subscription = Nested(SubscriptionOut, allow_none=True, required=True)
    vip_level = Integer(required=True)
    is_banned = Boolean(required=True)
    quota = Nested(QuotaOut, allow_none=True, required=True,
                   metadata={"description": "Null without bot_id."})


class QuotaConsume(Strict):
    bot_id = Integer(required=True, validate=Range(1, MAX_ID))
    count = Integer(load_default=1, validate=Range(1, 1000))


class UsageIn(Strict):
    traffic_bytes = Integer(required=True, validate=Range(0, 1024**5))


class UsageOut(Schema):
    subscription = Nested(SubscriptionOut, required=True)
    became_limited = Boolean(required=True)


# --- growth ----------------------------------------------------------------------------------------------
class XpIn(Strict):
    amount = Integer(required=True, validate=Range(1, 1_000_000))
    reason = String(required=True, validate=Length(1, 200))
    bot_id = Integer(validate=Range(1, MAX_ID), allow_none=True)


class XpOut(Schema):
    leveled_up = Boolean(required=True)
    old_level = Integer(required=True)
    new_level = Integer(required=True)
    total_xp = Integer(required=True)


class BadgeOut(Schema):
    code = String(required=True)
    title = String(required=True)
    description = String(required=True)
    icon = String(required=True)
    awarded_at = DateTime(required=True)
    earned_in_bot_id = Integer(allow_none=True)


class BadgeList(Schema):
    items = List(Nested(BadgeOut), required=True)


class BadgeAward(Strict):
    code = String(required=True, validate=Length(2, 40))
    bot_id = Integer(validate=Range(1, MAX_ID), allow_none=True)


class BadgeAwarded(Schema):
    badge = Nested(BadgeOut, required=True)
    newly_awarded = Boolean(required=True)


class LeaderboardQuery(Strict):
    period = String(load_default="all", validate=OneOf(leaderboard.PERIODS))
    limit = Integer(load_default=10, validate=Range(1, leaderboard.MAX_LIMIT))


class StandingOut(Schema):
    rank = Integer(required=True)
    telegram_id = Integer(required=True)
    display_name = String(required=True)
    xp = Integer(required=True)
    level = Integer(required=True)


class LeaderboardOut(Schema):
    period = String(required=True)
    items = List(Nested(StandingOut), required=True)


class RankQuery(Strict):
    period = String(load_default="all", validate=OneOf(leaderboard.PERIODS))


class RankOut(Schema):
    telegram_id = Integer(required=True)
    period = String(required=True)
    rank = Integer(required=True)
    xp = Integer(required=True)


class SessionOut(Schema):
    telegram_id = Integer(required=True)
    bot_id = Integer(required=True)
    session_data = Dict(required=True)
    stats_data = Dict(required=True)
    version = Integer(required=True, metadata={"description": "0 until the first write."})
    updated_at = DateTime(required=True, allow_none=True)


class SessionPut(Strict):
    session_data = Dict()
    stats_data = Dict()


class IfMatchHeader(Schema):
    class Meta:
        unknown = EXCLUDE

    if_match = String(data_key="If-Match", validate=[Length(max=40), Regexp(r'^(\*|(W/)?"?[0-9]{1,12}"?)$')],
                      metadata={"description": "The version read (ETag); a stale one gives 412."})

