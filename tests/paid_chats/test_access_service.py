"""Chat grants follow subscriptions; what Telegram reports is checked; reconciliation fixes drift."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.models import ChatGrant, ChatPresence, GrantState, SubscriptionSource
from app.services import channels, chat_access, clock, subscriptions
from app.services.errors import NotFound
from tests.paid_chats.conftest import outbox_rows


def test_a_sale_invites_and_the_end_removes(db, make, vip):
    tenant, _bot, chat, plan = vip
    member = make.member(tenant)
    subscription = subscriptions.grant_or_extend(member, plan, source=SubscriptionSource.GRANT.value)
    grant = chat_access.grant_of(member, chat)
    assert grant.state == GrantState.INVITED.value and grant.subscription_id == subscription.id
    assert [m.payload for m in outbox_rows(db, chat_access.GRANT_KIND)] == [{"grant_id": grant.id, "version": 1}]

    subscriptions.grant_or_extend(member, plan, source=SubscriptionSource.GRANT.value)  # an extension: no new link
    assert len(outbox_rows(db, chat_access.GRANT_KIND)) == 1

    subscriptions.expire_due(tenant, now=subscription.ends_at + timedelta(seconds=1))
    assert grant.state == GrantState.REMOVING.value
    assert [m.payload["version"] for m in outbox_rows(db, chat_access.GRANT_KIND)] == [1, 2]


def test_another_plan_covering_the_chat_keeps_the_member_in(db, make, vip):
    tenant, _bot, chat, plan = vip
    other = make.plan(tenant, name="Gold", period_days=60)
    channels.set_plan_chats(other, [chat.id])
    member = make.member(tenant)
    short = subscriptions.grant_or_extend(member, plan, source="grant")
    subscriptions.grant_or_extend(member, other, source="grant")
    subscriptions.cancel(short)
    assert chat_access.grant_of(member, chat).state == GrantState.INVITED.value


def test_a_join_through_someone_elses_link_is_refused_and_the_link_replaced(db, make, vip):
    tenant, _bot, chat, plan = vip
    member, stranger = make.member(tenant), make.member(tenant)
    subscriptions.grant_or_extend(member, plan, source="grant")
    grant = chat_access.grant_of(member, chat)
    grant.invite_link = "https://t.me/+abc"
    assert chat_access.member_status_changed(chat, stranger.telegram_id, "member", "https://t.me/+abc") == "intruder"
    kick = outbox_rows(db, chat_access.KICK_KIND)[-1].payload
    assert kick == {"paid_chat_id": chat.id, "user_id": stranger.telegram_id, "revoke_link": "https://t.me/+abc"}
    assert grant.invite_link is None and len(outbox_rows(db, chat_access.GRANT_KIND)) == 2  # a fresh link

    assert chat_access.member_status_changed(chat, member.telegram_id, "member", None) == "joined"
    assert grant.state == GrantState.JOINED.value


def test_someone_without_a_plan_joining_is_removed(db, make, vip):
    tenant, _bot, chat, _plan = vip
    assert chat_access.member_status_changed(chat, 5550001, "member", None) == "no_right"
    assert outbox_rows(db, chat_access.KICK_KIND)[-1].payload["user_id"] == 5550001
    assert chat_access.member_status_changed(chat, 5550002, "administrator", None) == "seen"


def test_join_requests_are_approved_only_for_members_with_a_plan(db, make, vip):
    tenant, _bot, chat, plan = vip
    member, other = make.member(tenant), make.member(tenant)
    subscriptions.grant_or_extend(member, plan, source="grant")
    assert chat_access.join_requested(chat, member.telegram_id, "1") is True
    assert chat_access.join_requested(chat, other.telegram_id, "2") is False
    assert chat_access.join_requested(chat, 777, "3") is False
    decisions = [(m.payload["user_id"], m.payload["approve"]) for m in outbox_rows(db, chat_access.JOIN_DECISION_KIND)]
    assert decisions == [(member.telegram_id, True), (other.telegram_id, False), (777, False)]
    assert chat_access.grant_of(member, chat).state == GrantState.JOINED.value


def test_reconciliation_removes_the_unpaid_and_invites_the_missing(db, make, vip):
    tenant, _bot, chat, plan = vip
    member = make.member(tenant)
    subscription = subscriptions.grant_or_extend(member, plan, source="grant")
    db.session.delete(chat_access.grant_of(member, chat))  # drift: the grant was lost
    db.session.add(ChatPresence(tenant_id=tenant.id, paid_chat_id=chat.id, telegram_id=4242, status="member"))
    db.session.add(ChatPresence(tenant_id=tenant.id, paid_chat_id=chat.id, telegram_id=member.telegram_id,
                                status="member"))
    db.session.flush()
    assert chat_access.reconcile(tenant, clock.now()) == 2
    assert [m.payload["user_id"] for m in outbox_rows(db, chat_access.KICK_KIND)] == [4242]
    assert chat_access.grant_of(member, chat).state == GrantState.INVITED.value
    assert chat.reconciled_at is not None and chat.last_fixes == 2
    # After the end, the reconciliation removes the member too.
    later = subscription.ends_at + timedelta(minutes=1)
    assert chat_access.reconcile(tenant, later) >= 1
    assert chat_access.grant_of(member, chat).state == GrantState.REMOVING.value


def test_the_reconcile_job_runs_per_tenant(db, make, vip, run_job):
    tenant, _bot, chat, _plan = vip
    db.session.add(ChatPresence(tenant_id=tenant.id, paid_chat_id=chat.id, telegram_id=4243, status="member"))
    db.session.commit()
    run_job("chat_reconcile", at=clock.now())
    assert outbox_rows(db, chat_access.KICK_KIND)[-1].payload["user_id"] == 4243


def test_a_plan_only_takes_the_tenants_own_chats(db, make, vip):
    _tenant, _bot, chat, _plan = vip
    other_plan = make.plan(make.tenant())
    with pytest.raises(NotFound):
        channels.set_plan_chats(other_plan, [chat.id])


def test_adding_a_chat_to_a_plan_invites_its_holders(db, make, vip):
    tenant, bot, chat, _plan = vip
    plan = make.plan(tenant, name="Basic")
    member = make.member(tenant)
    subscriptions.grant_or_extend(member, plan, source="grant")
    assert db.session.query(ChatGrant).count() == 0
    channels.set_plan_chats(plan, [chat.id])
    assert chat_access.grant_of(member, chat).state == GrantState.INVITED.value


def test_changing_the_plan_leaves_the_old_plans_chats(db, make, vip):
    tenant, _bot, chat, plan = vip
    member = make.member(tenant)
    subscription = subscriptions.grant_or_extend(member, plan, source="grant")
    subscriptions.change_plan(subscription, make.plan(tenant, name="Plain"))
    assert chat_access.grant_of(member, chat).state == GrantState.REMOVING.value
