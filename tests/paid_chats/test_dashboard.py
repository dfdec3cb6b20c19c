"""The Channels & groups pages, the plan form's Stars price and chats, and reminders for a chat plan."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.models import ChatGrant, OutboxMessage, PaidChat, Plan, utcnow
from app.services import chat_access, subscriptions
from tests.jobs.conftest import run_job  # noqa: F401


def post(client, url, **data):
    return client.post(url, data={"csrf_token": client.token, **data}, follow_redirects=True)


def test_a_plan_with_a_stars_price_and_a_chat(db, make, owner_client):
    client, tenant, _ = owner_client
    bot = make.bot(tenant)
    chat = PaidChat(tenant_id=tenant.id, bot_id=bot.id, chat_id=-1005, title="Signals", type="supergroup",
                    is_admin=True, can_invite=False, can_restrict=True, rights_checked_at=utcnow())
    db.session.add(chat)
    db.session.commit()
    form = client.get("/plans/new").get_data(as_text=True)
    assert "Signals" in form and "stars_price" in form
    page = post(client, "/plans/new", name="VIP", period_days="30", price="100000", stars_price="75",
                chats=str(chat.id), is_active="y")
    assert b"VIP" in page.data
    plan = db.session.scalar(sa.select(Plan).where(Plan.tenant_id == tenant.id))
    assert plan.stars_price == 75 and [c.id for c in plan.chats] == [chat.id]
    post(client, f"/plans/{plan.id}/edit", name="VIP", period_days="30", price="100000", stars_price="",
         is_active="y")
    db.session.expire_all()
    plan = db.session.get(Plan, plan.id)
    assert plan.stars_price is None and plan.chats == []

    listing = client.get("/chats/").get_data(as_text=True)
    assert "Signals" in listing and "missing: invite users" in listing
    assert "Members with access" in client.get(f"/chats/{chat.id}").get_data(as_text=True)


def test_another_tenants_chat_is_refused_on_the_plan_form(db, make, owner_client):
    client, tenant, _ = owner_client
    other = make.tenant()
    chat = PaidChat(tenant_id=other.id, bot_id=make.bot(other).id, chat_id=-1006, title="Theirs", type="channel")
    db.session.add(chat)
    db.session.commit()
    post(client, "/plans/new", name="Sneaky", period_days="30", price="100000", chats=str(chat.id), is_active="y")
    assert db.session.scalar(sa.select(Plan).where(Plan.tenant_id == tenant.id)) is None


def test_a_chat_plan_is_reminded_before_its_end_and_the_member_page_lists_the_chat(db, make, owner_client, run_job):
    client, tenant, _ = owner_client
    bot = make.bot(tenant)
    chat = PaidChat(tenant_id=tenant.id, bot_id=bot.id, chat_id=-1007, title="Course", type="channel",
                    is_admin=True, can_invite=True, can_restrict=True)
    db.session.add(chat)
    plan = make.plan(tenant, name="Course", period_days=10)
    plan.chats = [chat]
    member = make.member(tenant)
    subscription = subscriptions.grant_or_extend(member, plan, source="grant")
    db.session.commit()
    run_job("subscriptions", at=subscription.ends_at - timedelta(days=2))
    notices = [m.payload for m in db.session.scalars(sa.select(OutboxMessage)
                                                     .where(OutboxMessage.kind == "telegram.notice"))]
    assert any(n["text_key"] == "subscription_reminder_3d" and n["member_id"] == member.id for n in notices)
    assert db.session.scalar(sa.select(ChatGrant)).state == "invited"
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert "member-chats" in page and "Course" in page
    assert chat_access.grants_of_member(member)[0].paid_chat_id == chat.id
