"""Paid chats: connecting a tenant's channel or group, checking the bot's rights, and which plans grant it.

The rights check is a Bot API read (getChat, getChatMember) made in the request, as connecting a bot
checks its token with getMe (app.services.bot_registration): nothing changes outside, so no outbox row.
Grants, invite links and removals are in app.services.chat_access.
"""
from __future__ import annotations

import re

import sqlalchemy as sa
import telebot
from flask import current_app
from telebot import apihelper

from app import telegram_api
from app.extensions import db
from app.models import Bot, ChatGrant, ChatPresence, GrantState, PaidChat, Plan, Tenant
from app.services import audit, chat_access, clock
from app.services.bots import bot_token
from app.services.errors import NotFound, ValidationFailed
from app.services.lookup import get_owned

#: The bot's rights a paid chat needs, and the flag each sets on PaidChat.
NEEDED_RIGHTS = {"can_invite_users": "can_invite", "can_restrict_members": "can_restrict"}
_CHAT_REF = re.compile(r"^(-?\d{5,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$")


def connect_chat(tenant: Tenant, bot: Bot, chat_ref: str, *, by) -> PaidChat:
    """Connect the chat `chat_ref` (its id, or @username of a public one) run by `bot`, with its rights read now."""
    if bot.tenant_id != tenant.id:
        raise NotFound("No such bot.")
    chat_ref = (chat_ref or "").strip()
    if not _CHAT_REF.match(chat_ref):
        raise ValidationFailed("Enter the chat id (like -1001234567890) or the @username of the channel.")
    chat = _read(bot, lambda tb: tb.get_chat(int(chat_ref) if chat_ref[0] != "@" else chat_ref))
    if chat.type == "private":
        raise ValidationFailed("This is a private chat, not a channel or group.")
    if db.session.scalar(sa.select(PaidChat.id).where(PaidChat.tenant_id == tenant.id, PaidChat.chat_id == chat.id)):
        raise ValidationFailed("This chat is already connected.")
    paid = PaidChat(tenant_id=tenant.id, bot_id=bot.id, chat_id=chat.id, title=(chat.title or str(chat.id))[:255],
                    type=chat.type)
    db.session.add(paid)
    db.session.flush()
    check_rights(paid)
    audit.record(tenant.id, audit.actor_of(by), "chat.connect", f"paid_chat:{paid.id}", chat_id=chat.id)
    return paid


def check_rights(paid: PaidChat) -> PaidChat:
    """Read the bot's rights in the chat (getChatMember) and store them."""
    bot = db.session.get(Bot, paid.bot_id)
    return store_rights(paid, _read(bot, lambda tb: tb.get_chat_member(paid.chat_id, bot.telegram_bot_id)))


def store_rights(paid: PaidChat, member) -> PaidChat:
    """Keep the bot's rights from its ChatMember (a getChatMember answer, or a my_chat_member update)."""
    paid.is_admin = member.status in ("administrator", "creator")
    for right, flag in NEEDED_RIGHTS.items():
        setattr(paid, flag, member.status == "creator" or bool(getattr(member, right, False)))
    paid.rights_checked_at = clock.now()
    db.session.flush()
    return paid


def missing_rights(paid: PaidChat) -> list[str]:
    """What the bot lacks in the chat, as keys: admin, can_invite_users, can_restrict_members."""
    if not paid.is_admin:
        return ["admin"]
    return [right for right, flag in NEEDED_RIGHTS.items() if not getattr(paid, flag)]


def disconnect_chat(paid: PaidChat, *, by) -> None:
    """Forget a chat: plans stop granting it; members already inside stay (nothing is removed)."""
    audit.record(paid.tenant_id, audit.actor_of(by), "chat.disconnect", f"paid_chat:{paid.id}", chat_id=paid.chat_id)
    db.session.delete(paid)
    db.session.flush()


def chats_of(tenant: Tenant) -> list[PaidChat]:
    return list(db.session.scalars(sa.select(PaidChat).where(PaidChat.tenant_id == tenant.id)
                                   .order_by(PaidChat.title, PaidChat.id)))


def get_chat(tenant: Tenant, paid_chat_id: int) -> PaidChat:
    """The tenant's paid chat, or NotFound (also for another tenant's)."""
    return get_owned(PaidChat, tenant, paid_chat_id, "No such chat.")


def chat_by_telegram_id(bot: Bot, chat_id: int) -> PaidChat | None:
    """The paid chat `bot` runs with this Telegram id, if connected."""
    return db.session.scalar(sa.select(PaidChat).where(PaidChat.tenant_id == bot.tenant_id,
                                                       PaidChat.chat_id == chat_id, PaidChat.bot_id == bot.id))


def set_plan_chats(plan: Plan, chat_ids: list[int]) -> Plan:
    """The chats `plan` grants from now on (the tenant's own only); members who hold it are invited or removed."""
    chosen = list(db.session.scalars(sa.select(PaidChat).where(PaidChat.tenant_id == plan.tenant_id,
                                                               PaidChat.id.in_(chat_ids or [-1]))))
    if len(chosen) != len(set(chat_ids or [])):
        raise NotFound("No such chat.")
    before = {c.id for c in plan.chats}
    plan.chats = chosen
    db.session.flush()
    if before != {c.id for c in chosen}:
        chat_access.plan_chats_changed(plan)
    return plan


def chat_overview(paid: PaidChat) -> dict:
    """The chat page: grants by state, and who we saw inside without a grant."""
    grants = list(db.session.scalars(sa.select(ChatGrant).where(ChatGrant.tenant_id == paid.tenant_id,
                                                                ChatGrant.paid_chat_id == paid.id)
                                     .order_by(ChatGrant.id.desc()).limit(500)))
    by_state = {state.value: [g for g in grants if g.state == state.value] for state in GrantState}
    granted = {g.member.telegram_id for g in grants if g.state != GrantState.REMOVED.value}
    others = list(db.session.scalars(sa.select(ChatPresence).where(
        ChatPresence.tenant_id == paid.tenant_id, ChatPresence.paid_chat_id == paid.id,
        ChatPresence.status.in_(("member", "restricted"))).order_by(ChatPresence.id).limit(200)))
    return {"grants": by_state, "unexpected": [p for p in others if p.telegram_id not in granted]}


def _read(bot: Bot, read):
    """A Bot API read through the library's own client; ValidationFailed in words when Telegram refuses."""
    telegram_api.configure(current_app)
    try:
        return read(telebot.TeleBot(bot_token(bot), threaded=False))
    except apihelper.ApiTelegramException as err:
        raise ValidationFailed(f"Telegram answered: {err.description}"[:300]) from None
    except Exception:  # network trouble: never echo the exception, it holds the token in its URL
        raise ValidationFailed("Could not reach Telegram. Try again in a minute.") from None
