"""Outbox handlers for paid chats: invite links, removals, join-request answers (app.services.chat_access).

Each reads the grant as it is now, so a late or repeated message does the right thing or nothing.
A link made is recorded on the message (app.worker.delivery.remember) before the member is told, so a
re-run after a crash does not make a second one.
"""
from __future__ import annotations

from app.extensions import db
from app.models import Bot, ChatGrant, ChatPresence, GrantState, Member, OutboxMessage, PaidChat
from app.services import clock, notify, outbox
from app.services.chat_access import GRANT_KIND, JOIN_DECISION_KIND, KICK_KIND, covering_subscription
from app.worker.delivery import remember
from bots import outbound


@outbox.handler(GRANT_KIND)
def deliver_grant(message: OutboxMessage) -> None:
    """Invite (a single-use link sent to the member) or remove (ban, unban, tell) as the grant now says."""
    grant = db.session.get(ChatGrant, message.payload["grant_id"])
    if grant is None or message.payload.get("version", 0) < grant.version:
        return  # gone, or a newer change was queued after this one; its message does the work
    tb = _telebot(grant.chat)
    try:
        if grant.state == GrantState.INVITED.value and not grant.invite_link:
            _invite(tb, message, grant)
        elif grant.state == GrantState.REMOVING.value:
            _remove(tb, grant)
    except outbox.Permanent as refused:
        grant.last_error = refused.reason[:500]
        raise


def _invite(tb, message: OutboxMessage, grant: ChatGrant) -> None:
    link = (message.result or {}).get("invite_link")
    if link is None:
        made = api_call(tb, "create_chat_invite_link", grant.chat.chat_id, name=f"bf{grant.id}", member_limit=1)
        link = made.invite_link
        grant.invite_link, grant.last_error = link, None
        remember(message, invite_link=link)
    notify.notify_member(grant.member, "chats.invite", once_key=f"chat-invite:{grant.id}:{link}",
                         title=grant.chat.title, link=link)


def _remove(tb, grant: ChatGrant) -> None:
    member = grant.member
    _out(tb, grant.chat, member.telegram_id, grant.invite_link)
    grant.state, grant.removed_at, grant.last_error = GrantState.REMOVED.value, clock.now(), None
    notify.notify_member(member, "chats.removed", once_key=f"chat-removed:{grant.id}:v{grant.version}",
                         title=grant.chat.title)


@outbox.handler(KICK_KIND)
def deliver_kick(message: OutboxMessage) -> None:
    """Remove someone with no right to be in the chat, and revoke the link they came by."""
    chat = db.session.get(PaidChat, message.payload["paid_chat_id"])
    if chat is None:
        return
    user_id = message.payload["user_id"]
    member = db.session.query(Member).filter_by(tenant_id=chat.tenant_id, telegram_id=user_id).one_or_none()
    if member is not None and _has_right(member, chat):
        return  # they paid meanwhile
    _out(_telebot(chat), chat, user_id, message.payload.get("revoke_link"))


@outbox.handler(JOIN_DECISION_KIND)
def deliver_join_decision(message: OutboxMessage) -> None:
    chat = db.session.get(PaidChat, message.payload["paid_chat_id"])
    if chat is None:
        return
    method = "approve_chat_join_request" if message.payload["approve"] else "decline_chat_join_request"
    try:
        api_call(_telebot(chat), method, chat.chat_id, message.payload["user_id"])
    except outbox.Permanent as refused:
        if "HIDE_REQUESTER_MISSING" not in refused.reason:  # already answered (by us or an admin)
            raise


def _out(tb, chat: PaidChat, user_id: int, link: str | None) -> None:
    """Ban then unban (the user is out and may come back after paying); revoke the link if any."""
    api_call(tb, "ban_chat_member", chat.chat_id, user_id)
    api_call(tb, "unban_chat_member", chat.chat_id, user_id, only_if_banned=True)
    if link:
        try:
            api_call(tb, "revoke_chat_invite_link", chat.chat_id, link)
        except outbox.Permanent:
            pass  # already revoked or expired
    presence = db.session.query(ChatPresence).filter_by(paid_chat_id=chat.id, telegram_id=user_id).one_or_none()
    if presence is not None and presence.status in ("member", "restricted"):
        presence.status, presence.seen_at = "left", clock.now()


def _has_right(member: Member, chat: PaidChat) -> bool:
    return covering_subscription(member, chat) is not None


def _telebot(chat: PaidChat):
    bot = db.session.get(Bot, chat.bot_id)
    if bot is None or not bot.is_active:
        raise outbox.Permanent("the chat's bot is gone or inactive")
    return outbound.telebot_for(bot)


def api_call(tb, method: str, *args, **kwargs):
    """One Bot API call with the outbox's error rules (429 → Retry, 400/403 → Permanent, else retried)."""
    outbound.configure()
    try:
        return getattr(tb, method)(*args, **kwargs)
    except outbound.ApiTelegramException as exc:
        raise outbound.telegram_failure(exc) from None
    except outbound.requests.RequestException as exc:
        raise outbound.Unreachable(f"Telegram unreachable: {type(exc).__name__}") from None
