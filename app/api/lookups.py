"""The calling tenant's rows by the ids sibling services know; anything else (another tenant's too) is 404."""
from __future__ import annotations

from werkzeug.exceptions import NotFound

from app.api.auth import tenant
from app.api.schemas import MAX_ID, MAX_TELEGRAM_ID
from app.extensions import db
from app.models import Bot, Member, Subscription
from app.services import members
from app.services.lookup import owned_row


def member_or_404(telegram_id: int) -> Member:
    member = members.find_member(tenant(), telegram_id) if telegram_id <= MAX_TELEGRAM_ID else None
    if member is None:
        raise NotFound(f"No member with Telegram id {telegram_id}.")
    return member


def row_id(path_id: int) -> int:
    """A row id from the URL path, or 0 (no row) beyond the integer ids hold (the database would refuse it)."""
    return path_id if path_id <= MAX_ID else 0


def bot_or_404(bot_id: int | None) -> Bot:
    bot = owned_row(Bot, tenant(), row_id(bot_id)) if bot_id is not None else None
    if bot is None:
        raise NotFound(f"No bot {bot_id}.")
    return bot


def optional_bot(bot_id: int | None) -> Bot | None:
    return None if bot_id is None else bot_or_404(bot_id)


def subscription_out(subscription: Subscription | None, telegram_id: int | None = None) -> dict | None:
    if subscription is None:
        return None
    if telegram_id is None:
        telegram_id = db.session.get(Member, subscription.member_id).telegram_id
    return {"id": subscription.id, "telegram_id": telegram_id, "plan_id": subscription.plan_id,
            "plan_name": subscription.plan.name, "status": subscription.status,
            "starts_at": subscription.starts_at, "ends_at": subscription.ends_at,
            "traffic_limit_bytes": subscription.traffic_limit_bytes,
            "traffic_used_bytes": subscription.traffic_used_bytes, "source": subscription.source}
