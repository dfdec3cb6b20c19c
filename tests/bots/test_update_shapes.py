"""Real Telegram update shapes, delivered through the sandbox (getUpdates) and through the webhook (/tg/<id>).

None may raise or log an error; none may create a member for a bot, a Telegram service account, a
channel or a sender seen only in groups; nothing is posted into a group that is no admin chat; and the
bot still answers /start afterwards. The shapes already in the suite (tests/engine/test_unusual_updates.py,
tests/bots/test_notify_and_unusual.py) are delivered the same two ways.
"""
from __future__ import annotations

import itertools
import logging
import time

import pytest
import sqlalchemy as sa

from app.models import Member, Ticket
from app.services import settings
from app.services.bots import bot_token
from bots import replies
from bots.i18n import t
from tests.bots.conftest import ADMIN_ID
from tests.engine.test_unusual_updates import unusual_bodies
from tests.waiting import wait_until

SUPERGROUP = {"id": -100_555_0001, "type": "supergroup", "title": "Fans"}
GROUP = {"id": -555_0002, "type": "group", "title": "Old group"}
CHANNEL = {"id": -100_555_0003, "type": "channel", "title": "News"}
FORUM = {"id": -100_555_0004, "type": "supergroup", "title": "Staff", "is_forum": True}
TELEGRAM = {"id": 777000, "is_bot": False, "first_name": "Telegram"}
ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
OTHER_BOT = {"id": 6_000_000_001, "is_bot": True, "first_name": "Spam", "username": "spam_bot"}
_people = itertools.count(930_000_001)
_numbers = itertools.count(1)


def person(**extra):
    return {"id": next(_people), "is_bot": False, "first_name": "Guest", "language_code": "en", **extra}


def message(chat, sender, text=None, **fields):
    body = {"message_id": next(_numbers), "date": int(time.time()), "chat": chat, **fields}
    if sender is not None:
        body["from"] = sender
    if text is not None:
        body["text"] = text
        if text.startswith("/"):
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return body


def real_shapes(username: str) -> tuple[list[dict], list[int]]:
    """The updates of issue #14, and the Telegram ids that must not become members."""
    guest, inline_guest, group_guest = person(), person(), person()
    shapes = [
        # A button on an inline message: no `message`, only inline_message_id.
        {"callback_query": {"id": "inline-1", "from": inline_guest, "chat_instance": "9",
                            "inline_message_id": "AgAAAKk", "data": "m:home"}},
        {"callback_query": {"id": "inline-2", "from": inline_guest, "chat_instance": "9",
                            "inline_message_id": "AgAAAKl", "data": "ra:1"}},
        # A linked channel's post forwarded automatically into its discussion group by 777000.
        {"message": message(SUPERGROUP, TELEGRAM, "New episode is out", sender_chat=CHANNEL,
                            is_automatic_forward=True, forward_origin={
                                "type": "channel", "chat": CHANNEL, "message_id": 5, "date": 1})},
        # An anonymous admin's /start@bot in a supergroup: GroupAnonymousBot, on behalf of the group.
        {"message": message(SUPERGROUP, ANONYMOUS_ADMIN, f"/start@{username}", sender_chat=SUPERGROUP)},
        # Another bot writing to ours (any from.is_bot), in private and in a group.
        {"message": message({"id": OTHER_BOT["id"], "type": "private", "first_name": "Spam"}, OTHER_BOT, "/start")},
        {"message": message(GROUP, OTHER_BOT, "buy followers")},
        # A person who writes only in groups: plain text, /start@bot, a member's button.
        {"message": message(SUPERGROUP, group_guest, "hello everyone")},
        {"message": message(GROUP, group_guest, f"/start@{username}")},
        {"message": message(SUPERGROUP, group_guest, "/start")},
        {"callback_query": {"id": "group-1", "from": group_guest, "chat_instance": "8", "data": "m:topup",
                            "message": message(SUPERGROUP, None, "menu")}},
        # A channel post and a forum-topic message from the group-only person.
        {"channel_post": message(CHANNEL, None, "/start", sender_chat=CHANNEL)},
        {"message": message(FORUM, group_guest, "in a topic", message_thread_id=3, is_topic_message=True)},
        # A private message from 777000 itself (it writes login codes to people, never to bots, but still).
        {"message": message({"id": 777000, "type": "private", "first_name": "Telegram"}, TELEGRAM, "/start")},
        # A person's private message that the bot must still answer (the control: this one *is* a member).
        {"message": message({"id": guest["id"], "type": "private", "first_name": "Guest"}, guest, "/start")},
    ]
    never_members = [inline_guest["id"], group_guest["id"], 777000, 1087968824, OTHER_BOT["id"]]
    return shapes, never_members


def suite_shapes(tg_bot_id: int) -> list[dict]:
    """One of each of the suite's unusual updates (raw ones: those are what a webhook can receive)."""
    seen, raws = set(), []
    for body in unusual_bodies(tg_bot_id):
        raw = body.get("raw")
        if isinstance(raw, dict) and repr(sorted(raw)) + str(len(repr(raw)) // 50) not in seen:
            seen.add(repr(sorted(raw)) + str(len(repr(raw)) // 50))
            raws.append(raw)
    return raws


class Deliver:
    """Deliver raw updates to a bot either through the sandbox's getUpdates or by POSTing to /tg/<id>."""

    def __init__(self, route, fleet, client, bot):
        self.route, self.fleet, self.client, self.bot = route, fleet, client, bot
        self.update_ids = itertools.count(50_000)
        self.statuses = []

    def __call__(self, raw: dict) -> None:
        if self.route == "sandbox":
            self.fleet.post("/sandbox/updates", {"bot_id": self.bot.telegram_bot_id, "raw": raw})
            self.fleet.pump()
            return
        response = self.client.post(f"/tg/{self.bot.id}", json={"update_id": next(self.update_ids), **raw},
                                    headers={"X-Telegram-Bot-Api-Secret-Token": self.bot.webhook_secret})
        self.statuses.append(response.status_code)
        # one reply is the webhook's answer (Telegram makes it); several leave from the process's reply threads
        # after the request (bots/replies.py)
        self.fleet.answer_webhook(bot_token(self.bot), response)
        wait_until(lambda: replies.sender_of(self.client.application).idle(), 10, message="webhook replies sent")


@pytest.fixture(params=["sandbox", "webhook"])
def deliver(request, db, make, fleet, client, caplog):
    tenant = make.tenant(default_language="en")
    bot = make.bot(tenant)
    fleet.add(bot)
    for chat in (SUPERGROUP, GROUP, CHANNEL, FORUM):
        fleet.open_chat(chat["id"], bot.telegram_bot_id)
    caplog.set_level(logging.INFO)
    delivered = Deliver(request.param, fleet, client, bot)
    yield delivered
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], errors
    assert set(delivered.statuses) <= {200}, delivered.statuses


def members(db, telegram_ids) -> list[int]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Member.telegram_id).where(Member.telegram_id.in_(telegram_ids))))


def sent_to(fleet, bot, chat_id, method="sendMessage") -> list[dict]:
    calls = fleet.get("/sandbox/calls", bot_id=bot.telegram_bot_id)["calls"]
    return [c for c in calls if c["method"].lower() == method.lower() and str(c["params"].get("chat_id")) == str(chat_id)]


def test_real_shapes_write_nothing_and_post_nothing_in_groups(db, fleet, deliver):
    bot = deliver.bot
    shapes, never = real_shapes(bot.username)
    for raw in shapes + suite_shapes(bot.telegram_bot_id):
        deliver(raw)

    assert members(db, never) == []
    for chat in (SUPERGROUP, GROUP, CHANNEL, FORUM):
        assert sent_to(fleet, bot, chat["id"]) == [], chat
    # Answered (the webhook's made-up query ids are unknown to the sandbox, so read the calls, not the answers).
    answers = {c["params"]["callback_query_id"]: c["params"].get("text")
               for c in fleet.get("/sandbox/calls", bot_id=bot.telegram_bot_id)["calls"]
               if c["method"].lower() == "answercallbackquery"}
    assert answers["inline-1"] == answers["inline-2"] == t("en", "callback.open_bot")
    assert "group-1" in answers and not answers["group-1"]

    guest = shapes[-1]["message"]["from"]
    assert members(db, [guest["id"]]) == [guest["id"]]  # a person in private is welcomed as before
    fleet.open_chat(4242, bot.telegram_bot_id)
    deliver({"message": message({"id": 4242, "type": "private", "first_name": "Tester"},
                                {"id": 4242, "is_bot": False, "first_name": "Tester", "language_code": "en"},
                                "/start")})
    assert [c["params"]["text"] for c in sent_to(fleet, bot, 4242)][0] == t("en", "start.welcome_new", name="Tester")


def test_service_accounts_and_bots_get_no_xp_even_where_they_write_most(db, fleet, deliver):
    bot = deliver.bot
    for sender, chat in ((TELEGRAM, SUPERGROUP), (ANONYMOUS_ADMIN, SUPERGROUP), (OTHER_BOT, GROUP)):
        for _ in range(3):
            deliver({"message": message(chat, sender, "post", sender_chat=CHANNEL)})
    assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 0


def test_a_reply_in_an_admin_forum_topic_lands_in_that_topic(db, make, fleet, shop, drain_outbox):
    tenant, bot = shop
    settings.update(bot, {"admin_chat_ids": [FORUM["id"]]}, by="system")
    db.session.commit()
    fleet.open_chat(FORUM["id"], bot.telegram_bot_id)
    sara = fleet.user(bot, language_code="en")
    sara.says("/start")
    sara.presses("m:support")
    sara.presses("tk:new")
    sara.says("The link does not open")
    drain_outbox()
    [copy] = [m for m in fleet.get(f"/sandbox/chats/{FORUM['id']}/messages", bot_id=bot.telegram_bot_id)["messages"]
              if m["from_bot"]]
    admin = {"id": ADMIN_ID, "is_bot": False, "first_name": "Admin", "language_code": "en"}

    sara.sends_raw({"message": message(FORUM, admin, "Try the new link", message_thread_id=7, is_topic_message=True,
                                       reply_to_message={"message_id": copy["message_id"], "date": copy["date"],
                                                         "chat": FORUM, "text": copy["text"],
                                                         "from": {"id": bot.telegram_bot_id, "is_bot": True,
                                                                  "first_name": "bot"}})})

    ticket = db.session.scalar(sa.select(Ticket))
    db.session.refresh(ticket)
    assert ticket.status == "answered"
    [confirmation] = sent_to(fleet, bot, FORUM["id"])[-1:]
    assert str(confirmation["params"].get("message_thread_id")) == "7"
