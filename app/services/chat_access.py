"""Access to paid chats follows subscriptions, through the outbox.

One ChatGrant per member and chat. Whenever a subscription whose plan includes chats changes (sold,
extended, expired, cancelled, refunded) `subscription_changed` decides, per chat, whether the member
should be inside (some live subscription of theirs covers the chat) and queues the work: a new single-use
invite link sent to them ("chat.grant" → createChatInviteLink member_limit 1), or their removal (ban then
unban, so they can come back after paying) and a message. The worker (bots/chat_outbound.py) reads the
grant as it is *then*, so a late or repeated message is harmless.

What Telegram tells us (chat_member, chat_join_request) is recorded as ChatPresence and checked here:
someone joining through another member's link is removed and the link replaced; a join request is
approved only for a member whose plan covers the chat. `reconcile` (a job) compares presence with grants.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Bot,
    ChatGrant,
    ChatPresence,
    GrantState,
    Member,
    PaidChat,
    Plan,
    Subscription,
    SubscriptionStatus,
    Tenant,
    plan_chats,
)
from app.services import clock, outbox

GRANT_KIND = "chat.grant"
KICK_KIND = "chat.kick"
JOIN_DECISION_KIND = "chat.join_decision"
INSIDE = ("member", "restricted")
STAFF = ("creator", "administrator")


def subscription_changed(subscription: Subscription, previous_plan_id: int | None = None) -> list[ChatGrant]:
    """Queue the chat work this subscription's new state needs (flush only); [] if its plan grants no chats.

    :param previous_plan_id: the plan it had before a change of plan, whose chats may have to be left.
    """
    chats = chats_of_plan(subscription.plan_id)
    if previous_plan_id is not None:
        chats += [c for c in chats_of_plan(previous_plan_id) if c not in chats]
    if not chats:
        return []
    member = db.session.get(Member, subscription.member_id)
    return [g for g in (sync_grant(member, chat) for chat in chats) if g is not None]


def plan_chats_changed(plan: Plan) -> None:
    """After the owner changed a plan's chats: every member holding it (and anyone holding a grant) is synced."""
    now = clock.now()
    members = set(db.session.scalars(sa.select(Subscription.member_id).where(
        Subscription.tenant_id == plan.tenant_id, Subscription.plan_id == plan.id, _live(now))))
    for member_id in sorted(members):
        member = db.session.get(Member, member_id)
        for chat in _tenant_chats(plan.tenant_id):
            sync_grant(member, chat, now)


def sync_grant(member: Member, chat: PaidChat, now: datetime | None = None) -> ChatGrant | None:
    """Make the member's grant in `chat` follow their subscriptions; queue an invite or a removal if it moved."""
    now = now or clock.now()
    covering = covering_subscription(member, chat, now)
    grant = grant_of(member, chat)
    if covering is None:
        if grant is None or grant.state not in (GrantState.INVITED.value, GrantState.JOINED.value):
            return grant
        grant.state = GrantState.REMOVING.value
        _queue(grant)
        return grant
    if grant is None:
        grant = ChatGrant(tenant_id=member.tenant_id, member_id=member.id, paid_chat_id=chat.id, version=0)
        db.session.add(grant)
    grant.subscription_id = covering.id
    if grant.state in (GrantState.REMOVING.value, GrantState.REMOVED.value) or grant.id is None:
        grant.state, grant.invite_link, grant.removed_at = GrantState.INVITED.value, None, None
        db.session.flush()
        _queue(grant)
    return grant


def covering_subscription(member: Member, chat: PaidChat, now: datetime | None = None) -> Subscription | None:
    """The member's live subscription (ending last) whose plan includes `chat`."""
    return db.session.scalar(
        sa.select(Subscription).join(plan_chats, plan_chats.c.plan_id == Subscription.plan_id)
        .where(Subscription.tenant_id == member.tenant_id, Subscription.member_id == member.id,
               plan_chats.c.paid_chat_id == chat.id, _live(now or clock.now()))
        .order_by(Subscription.ends_at.desc(), Subscription.id.desc()).limit(1))


def grant_of(member: Member, chat: PaidChat) -> ChatGrant | None:
    return db.session.scalar(sa.select(ChatGrant).where(ChatGrant.member_id == member.id,
                                                        ChatGrant.paid_chat_id == chat.id))


def grants_of_member(member: Member) -> list[ChatGrant]:
    """The member's grants (every chat they were ever given), for the member page."""
    return list(db.session.scalars(sa.select(ChatGrant).where(ChatGrant.tenant_id == member.tenant_id,
                                                              ChatGrant.member_id == member.id)
                                   .order_by(ChatGrant.id)))


def chats_of_plan(plan_id: int) -> list[PaidChat]:
    return list(db.session.scalars(sa.select(PaidChat).join(plan_chats, plan_chats.c.paid_chat_id == PaidChat.id)
                                   .where(plan_chats.c.plan_id == plan_id).order_by(PaidChat.id)))


# -- what Telegram told us --------------------------------------------------------------------------------


def member_status_changed(chat: PaidChat, telegram_id: int, status: str, invite_link: str | None) -> str:
    """A chat_member update: record presence; refuse a join that is not the joiner's own or has no right.

    Returns what was decided: "joined", "intruder", "no_right", "left" or "seen".
    """
    presence = _presence(chat, telegram_id)
    presence.status, presence.seen_at = status, clock.now()
    presence.via_link = invite_link or presence.via_link
    member = _member_by_telegram_id(chat.tenant_id, telegram_id)
    grant = grant_of(member, chat) if member else None
    if status not in INSIDE:
        return "left" if status in ("left", "kicked") else "seen"
    link_grant = _grant_by_link(chat, invite_link) if invite_link else None
    if link_grant is not None and link_grant.member_id != (member.id if member else None):
        _kick(chat, telegram_id, f"intruder:{link_grant.id}:{link_grant.version}:{telegram_id}", link=invite_link)
        link_grant.invite_link = None  # the rightful member gets a fresh link
        _queue(link_grant)
        return "intruder"
    if grant is None or covering_subscription(member, chat) is None:
        _kick(chat, telegram_id, f"noright:{chat.id}:{telegram_id}:{presence.id}:{clock.now().timestamp():.0f}")
        return "no_right"
    if grant.state == GrantState.INVITED.value:
        grant.state, grant.joined_at = GrantState.JOINED.value, clock.now()
    return "joined"


def join_requested(chat: PaidChat, telegram_id: int, request_key: str) -> bool:
    """A chat_join_request: approve a member whose plan covers the chat, decline anyone else (through the outbox)."""
    member = _member_by_telegram_id(chat.tenant_id, telegram_id)
    approve = member is not None and not member.is_banned and covering_subscription(member, chat) is not None
    outbox.enqueue(JOIN_DECISION_KIND, {"paid_chat_id": chat.id, "user_id": telegram_id, "approve": approve},
                   tenant_id=chat.tenant_id, key=f"chat-join:{chat.id}:{request_key}")
    if approve:
        grant = sync_grant(member, chat)
        grant.state, grant.joined_at = GrantState.JOINED.value, clock.now()
    return approve


# -- the periodic reconciliation --------------------------------------------------------------------------


def reconcile(tenant: Tenant, now: datetime) -> int:
    """Compare who we saw inside each chat with who should be there, and queue the fixes; how many."""
    fixes = 0
    for chat in _tenant_chats(tenant.id):
        fixes += _reconcile_chat(chat, now)
    return fixes


def _reconcile_chat(chat: PaidChat, now: datetime) -> int:
    fixes = 0
    for grant in db.session.scalars(sa.select(ChatGrant).where(
            ChatGrant.tenant_id == chat.tenant_id, ChatGrant.paid_chat_id == chat.id,
            ChatGrant.state.in_((GrantState.INVITED.value, GrantState.JOINED.value)))):
        if sync_grant(grant.member, chat, now).state == GrantState.REMOVING.value:
            fixes += 1
    should_be = _members_with_right(chat, now)
    for presence in db.session.scalars(sa.select(ChatPresence).where(
            ChatPresence.tenant_id == chat.tenant_id, ChatPresence.paid_chat_id == chat.id,
            ChatPresence.status.in_(INSIDE))):
        if presence.telegram_id not in should_be:
            _kick(chat, presence.telegram_id, f"reconcile:{chat.id}:{presence.telegram_id}:{now.timestamp():.0f}")
            fixes += 1
    for member in _members_missing_grant(chat, now):
        sync_grant(member, chat, now)
        fixes += 1
    chat.reconciled_at, chat.last_fixes = now, fixes
    db.session.flush()
    return fixes


def _members_with_right(chat: PaidChat, now: datetime) -> set[int]:
    return set(db.session.scalars(
        sa.select(Member.telegram_id).join(Subscription, Subscription.member_id == Member.id)
        .join(plan_chats, plan_chats.c.plan_id == Subscription.plan_id)
        .where(Subscription.tenant_id == chat.tenant_id, plan_chats.c.paid_chat_id == chat.id, _live(now))))


def _members_missing_grant(chat: PaidChat, now: datetime) -> list[Member]:
    granted = sa.select(ChatGrant.member_id).where(ChatGrant.paid_chat_id == chat.id,
                                                   ChatGrant.state.in_((GrantState.INVITED.value,
                                                                        GrantState.JOINED.value)))
    return list(db.session.scalars(
        sa.select(Member).join(Subscription, Subscription.member_id == Member.id)
        .join(plan_chats, plan_chats.c.plan_id == Subscription.plan_id)
        .where(Subscription.tenant_id == chat.tenant_id, plan_chats.c.paid_chat_id == chat.id, _live(now),
               Member.id.not_in(granted)).distinct()))


# -- helpers ----------------------------------------------------------------------------------------------


def _live(now: datetime):
    return sa.and_(Subscription.status == SubscriptionStatus.ACTIVE.value, Subscription.ends_at > now)


def _tenant_chats(tenant_id: int) -> list[PaidChat]:
    return list(db.session.scalars(sa.select(PaidChat).where(PaidChat.tenant_id == tenant_id).order_by(PaidChat.id)))


def _member_by_telegram_id(tenant_id: int, telegram_id: int) -> Member | None:
    return db.session.scalar(sa.select(Member).where(Member.tenant_id == tenant_id, Member.telegram_id == telegram_id))


def _grant_by_link(chat: PaidChat, link: str) -> ChatGrant | None:
    return db.session.scalar(sa.select(ChatGrant).where(ChatGrant.paid_chat_id == chat.id, ChatGrant.invite_link == link))


def _presence(chat: PaidChat, telegram_id: int) -> ChatPresence:
    presence = db.session.scalar(sa.select(ChatPresence).where(ChatPresence.paid_chat_id == chat.id,
                                                               ChatPresence.telegram_id == telegram_id))
    if presence is None:
        presence = ChatPresence(tenant_id=chat.tenant_id, paid_chat_id=chat.id, telegram_id=telegram_id, status="left")
        db.session.add(presence)
        db.session.flush()
    return presence


def _kick(chat: PaidChat, telegram_id: int, key: str, link: str | None = None) -> None:
    """Queue the removal of someone without a right (ban then unban), and the revocation of the link they used."""
    outbox.enqueue(KICK_KIND, {"paid_chat_id": chat.id, "user_id": telegram_id, "revoke_link": link},
                   tenant_id=chat.tenant_id, key=f"chat-kick:{key}")


def _queue(grant: ChatGrant) -> None:
    # An atomic increment: two transactions changing the same grant get two different versions.
    db.session.flush()
    version = db.session.execute(
        sa.update(ChatGrant).where(ChatGrant.id == grant.id).values(version=ChatGrant.version + 1)
        .returning(ChatGrant.version), execution_options={"synchronize_session": False}).scalar_one()
    db.session.expire(grant, ["version"])
    outbox.enqueue(GRANT_KIND, {"grant_id": grant.id, "version": version}, tenant_id=grant.tenant_id,
                   key=f"{GRANT_KIND}:{grant.id}:v{version}")


def bot_of(chat: PaidChat) -> Bot | None:
    return db.session.get(Bot, chat.bot_id)
