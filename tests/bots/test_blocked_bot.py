"""A member who blocked the bot: Telegram's 403 or my_chat_member (kicked) flags their session with that bot;
the member page says so (in Persian too), broadcasts skip them and count them, and writing to the bot again
(or my_chat_member: member) clears it. Driven through the sandbox's block / unblock controls."""
from __future__ import annotations

import sqlalchemy as sa

from app.models import BotSession, Broadcast, Member
from app.services import broadcasts
from app.services.broadcasts import Draft
from bots import outbound
from tests.factories import AuthActions


def session_of(db, user) -> BotSession:
    db.session.expire_all()
    return db.session.scalar(sa.select(BotSession).join(Member, Member.id == BotSession.member_id)
                             .where(Member.telegram_id == user.id))


def block(fleet, user, bot):
    return fleet.post(f"/sandbox/users/{user.id}/block", {"bot_id": bot.telegram_bot_id})


def test_a_403_flags_the_session_and_writing_again_clears_it(db, make, fleet, drain_outbox):
    bot = make.bot(make.tenant())
    fleet.add(bot)
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    # Blocked; its my_chat_member update is not read yet (no pump), so the 403 alone must flag the session.
    fleet.post("/sandbox/chats", {"chat_id": sara.id, "bot_id": bot.telegram_bot_id, "blocked": True})
    outbound.send_later(bot, sara.id, "news", key="news")
    db.session.commit()

    [row] = drain_outbox()

    assert row.status == "dead" and "blocked by the user" in row.last_error
    assert session_of(db, sara).blocked_at is not None
    fleet.post("/sandbox/chats", {"chat_id": sara.id, "bot_id": bot.telegram_bot_id, "blocked": False})
    sara.says("/start")
    assert session_of(db, sara).blocked_at is None


def test_my_chat_member_kicked_and_member_flag_and_clear_the_session(db, make, fleet):
    tenant = make.tenant()
    bot, other_bot = make.bot(tenant), make.bot(tenant)
    fleet.add(bot), fleet.add(other_bot)
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    fleet.user(other_bot, user_id=sara.id).says("/start")

    answer = block(fleet, sara, bot)
    fleet.pump()

    assert answer["changed"] and answer["update_id"]
    blocked = {s.bot_id: s.blocked_at is not None for s in db.session.scalars(sa.select(BotSession))}
    assert blocked == {bot.id: True, other_bot.id: False}  # only the bot they blocked
    fleet.post(f"/sandbox/users/{sara.id}/unblock", {"bot_id": bot.telegram_bot_id})
    fleet.pump()
    assert session_of(db, sara).blocked_at is None


def test_the_member_page_shows_the_block_in_english_and_persian(conversation_app, db, make, fleet):
    owner = make.account()
    tenant = make.tenant(owner=owner)
    bot = make.bot(tenant)
    fleet.add(bot)
    sara = fleet.user(bot)
    sara.says("/start")
    member_id = db.session.scalar(sa.select(Member.id))
    client = conversation_app.test_client()
    AuthActions(client).login(owner.email)
    assert 'id="member-blocked"' not in client.get(f"/members/{member_id}").get_data(as_text=True)
    block(fleet, sara, bot)
    fleet.pump()

    persian = client.get(f"/members/{member_id}").get_data(as_text=True)
    AuthActions(client).use_language("en")
    english = client.get(f"/members/{member_id}").get_data(as_text=True)

    assert f"Blocked @{bot.username} on" in english and "broadcasts skip them" in english
    assert f"ربات @{bot.username} را در" in persian and "مسدود کرده است" in persian


def test_a_broadcast_skips_members_who_blocked_the_bot_and_counts_them(db, make, fleet, drain_outbox):
    tenant = make.tenant()
    bot = make.bot(tenant)
    fleet.add(bot)
    users = [fleet.user(bot, language_code="en") for _ in range(3)]
    for user in users:
        user.says("/start")
    block(fleet, users[0], bot)
    fleet.pump()
    assert [s.blocked_at is not None for s in db.session.scalars(sa.select(BotSession).order_by(BotSession.id))] \
        == [True, False, False]
    before = len(fleet.get("/sandbox/calls", bot_id=bot.telegram_bot_id)["calls"])

    broadcast = broadcasts.compose(tenant, Draft(text="Big news", bot_ids=[bot.id]))
    broadcasts.confirm(broadcast)
    db.session.commit()
    for _ in range(50):
        drain_outbox()
        db.session.expire_all()
        if db.session.get(Broadcast, broadcast.id).status == "done":
            break

    broadcast = db.session.get(Broadcast, broadcast.id)
    assert (broadcast.status, broadcast.sent_count, broadcast.blocked_count) == ("done", 2, 1)
    sends = [c for c in fleet.get("/sandbox/calls", bot_id=bot.telegram_bot_id)["calls"][before:]
             if c["method"] == "sendMessage"]
    assert sorted(int(c["params"]["chat_id"]) for c in sends) == sorted(u.id for u in users[1:])  # none tried
