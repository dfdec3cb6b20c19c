"""Groups and channels with members, the bot's rights, invite-link joins, join requests and bans
(issue 18), driven by pyTelegramBotAPI over HTTP and the control API."""

import time

import pytest
from telebot.apihelper import ApiTelegramException

CHANNEL = -1005550001
ANN, BOB = 5551, 5552
MEMBER_UPDATES = ["message", "chat_member", "my_chat_member", "chat_join_request"]


def error_of(call):
    with pytest.raises(ApiTelegramException) as raised:
        call()
    return raised.value.error_code, raised.value.description


def make_channel(control, bot_id, **extra):
    body = {"chat_id": CHANNEL, "bot_id": bot_id, "type": "channel", "title": "VIP", **extra}
    response = control.post("/sandbox/chats", body)
    assert response.status_code == 201, response.text
    return response.json()["chat"]


def subscribe(bot):
    """Ask for member updates (Telegram keeps no chat_member update a bot did not ask for)."""
    bot.get_updates(long_polling_timeout=1, allowed_updates=MEMBER_UPDATES)


def updates_of(bot, kind):
    found = [getattr(update, kind) for update in bot.get_updates(long_polling_timeout=1)]
    return [item for item in found if item is not None]


def join(control, user_id, link, **extra):
    return control.post(f"/sandbox/chats/{CHANNEL}/join",
                        {"user_id": user_id, "first_name": "Ann", "invite_link": link, **extra})


def test_a_channel_is_created_with_the_bots_rights_and_the_bot_hears_of_it(make_bot, control):
    bot, bot_id = make_bot()
    subscribe(bot)
    chat = make_channel(control, bot_id, rights={"can_restrict_members": False},
                        members=[{"id": ANN, "first_name": "Ann"}])
    assert chat["type"] == "channel"
    me = bot.get_chat_member(CHANNEL, bot_id)
    assert (me.status, me.can_invite_users, me.can_restrict_members) == ("administrator", True, False)
    assert bot.get_chat_member(CHANNEL, ANN).status == "member"
    assert bot.get_chat_member_count(CHANNEL) == 3  # owner, bot, Ann
    assert {admin.status for admin in bot.get_chat_administrators(CHANNEL)} == {"creator",
                                                                               "administrator"}
    [change] = updates_of(bot, "my_chat_member")
    assert (change.old_chat_member.status, change.new_chat_member.status) == ("left",
                                                                              "administrator")
    assert change.chat.type == "channel"
    assert error_of(lambda: bot.ban_chat_member(CHANNEL, ANN)) == (
        400, "Bad Request: not enough rights to restrict/unrestrict chat member")


def test_a_bot_without_invite_rights_cannot_make_links(make_bot, control):
    bot, bot_id = make_bot()
    make_channel(control, bot_id, rights={"can_invite_users": False})
    assert error_of(lambda: bot.create_chat_invite_link(CHANNEL)) == (
        400, "Bad Request: not enough rights to manage chat invite link")


def test_single_use_link_lets_one_user_in_and_refuses_the_next(make_bot, control):
    bot, bot_id = make_bot()
    subscribe(bot)
    make_channel(control, bot_id)
    link = bot.create_chat_invite_link(CHANNEL, name="ann", member_limit=1).invite_link
    assert join(control, ANN, link).json()["status"] == "member"
    second = join(control, BOB, link)
    assert second.status_code == 400
    assert (second.json()["description"], second.json()["reason"]) == ("INVITE_HASH_EXPIRED",
                                                                       "member_limit")
    assert bot.get_chat_member(CHANNEL, BOB).status == "left"
    [change] = updates_of(bot, "chat_member")
    assert (change.from_user.id, change.new_chat_member.status) == (ANN, "member")
    assert change.invite_link.invite_link == link and change.invite_link.name == "ann"


def test_chat_member_updates_come_only_when_asked_for(make_bot, control):
    bot, bot_id = make_bot()
    make_channel(control, bot_id)
    bot.get_updates(long_polling_timeout=1, allowed_updates=["message"])
    link = bot.create_chat_invite_link(CHANNEL).invite_link
    assert join(control, ANN, link).json() == {"status": "member", "update_id": None}
    assert bot.get_chat_member(CHANNEL, ANN).status == "member"


def test_revoked_expired_and_unknown_links_are_refused(make_bot, control):
    bot, bot_id = make_bot()
    make_channel(control, bot_id)
    revoked = bot.create_chat_invite_link(CHANNEL).invite_link
    bot.revoke_chat_invite_link(CHANNEL, revoked)
    assert join(control, ANN, revoked).json()["reason"] == "revoked"
    expires = int(time.time()) + 2  # whole seconds, as Telegram counts; at least 1 s ahead
    soon = bot.create_chat_invite_link(CHANNEL, expire_date=expires).invite_link
    while time.time() <= expires:  # deliberately lets time pass: the link expires on the clock
        time.sleep(0.1)
    assert join(control, ANN, soon).json()["reason"] == "expired"
    unknown = join(control, ANN, "https://t.me/+nothing", bot_id=bot_id)
    assert unknown.json()["description"] == "INVITE_HASH_INVALID"


def test_ban_removes_and_refuses_rejoining_until_unbanned(make_bot, control):
    bot, bot_id = make_bot()
    subscribe(bot)
    make_channel(control, bot_id)
    link = bot.create_chat_invite_link(CHANNEL).invite_link
    join(control, ANN, link)
    assert bot.ban_chat_member(CHANNEL, ANN) is True
    assert bot.get_chat_member(CHANNEL, ANN).status == "kicked"
    refused = join(control, ANN, link)
    assert (refused.status_code, refused.json()["description"]) == (403, "USER_BANNED_IN_CHANNEL")
    assert bot.unban_chat_member(CHANNEL, ANN, only_if_banned=True) is True
    assert bot.get_chat_member(CHANNEL, ANN).status == "left"
    assert join(control, ANN, link).json()["status"] == "member"
    statuses = [(c.old_chat_member.status, c.new_chat_member.status)
                for c in updates_of(bot, "chat_member")]
    assert statuses == [("left", "member"), ("member", "kicked"), ("kicked", "left"),
                        ("left", "member")]


def test_unban_without_only_if_banned_removes_a_member(make_bot, control):
    bot, bot_id = make_bot()
    make_channel(control, bot_id, members=[{"id": ANN}])
    assert bot.unban_chat_member(CHANNEL, ANN, only_if_banned=True) is True
    assert bot.get_chat_member(CHANNEL, ANN).status == "member"
    bot.unban_chat_member(CHANNEL, ANN)
    assert bot.get_chat_member(CHANNEL, ANN).status == "left"


def test_owner_and_administrators_cannot_be_banned(make_bot, control):
    bot, bot_id = make_bot()
    make_channel(control, bot_id, members=[{"id": BOB, "status": "administrator"}])
    assert error_of(lambda: bot.ban_chat_member(CHANNEL, 1000)) == (
        400, "Bad Request: can't remove chat owner")
    assert error_of(lambda: bot.ban_chat_member(CHANNEL, BOB)) == (
        400, "Bad Request: user is an administrator of the chat")
    control.post("/sandbox/chats", {"chat_id": 77, "bot_id": bot_id})
    assert error_of(lambda: bot.ban_chat_member(77, 77)) == (
        400, "Bad Request: can't ban members in private chats")


def test_join_requests_are_approved_or_declined(make_bot, control):
    bot, bot_id = make_bot()
    subscribe(bot)
    make_channel(control, bot_id)
    link = bot.create_chat_invite_link(CHANNEL, creates_join_request=True).invite_link
    assert join(control, ANN, link).json()["status"] == "requested"
    assert join(control, ANN, link).json()["description"] == "INVITE_REQUEST_SENT"
    assert join(control, BOB, link).json()["status"] == "requested"
    requests_ = updates_of(bot, "chat_join_request")
    assert [(r.from_user.id, r.user_chat_id, r.invite_link.invite_link) for r in requests_] == [
        (ANN, ANN, link), (BOB, BOB, link)]
    listing = control.get(f"/sandbox/chats/{CHANNEL}/members", bot_id=bot_id).json()
    assert listing["invite_links"][0]["pending_join_request_count"] == 2
    assert bot.send_message(ANN, "welcome soon").chat.id == ANN  # a requester may be written to
    assert bot.approve_chat_join_request(CHANNEL, ANN) is True
    assert bot.decline_chat_join_request(CHANNEL, BOB) is True
    assert error_of(lambda: bot.approve_chat_join_request(CHANNEL, BOB)) == (
        400, "Bad Request: HIDE_REQUESTER_MISSING")
    assert bot.get_chat_member(CHANNEL, ANN).status == "member"
    assert bot.get_chat_member(CHANNEL, BOB).status == "left"
    [change] = updates_of(bot, "chat_member")
    assert (change.from_user.id, change.invite_link.invite_link) == (bot_id, link)


def test_leave_and_member_listing(make_bot, control):
    bot, bot_id = make_bot()
    make_channel(control, bot_id, members=[{"id": ANN}])
    left = control.post(f"/sandbox/chats/{CHANNEL}/leave", {"user_id": ANN, "bot_id": bot_id})
    assert left.json()["status"] == "left"
    again = control.post(f"/sandbox/chats/{CHANNEL}/leave", {"user_id": ANN, "bot_id": bot_id})
    assert again.json()["description"] == "USER_NOT_PARTICIPANT"
    statuses = {m["user"]["id"]: m["status"] for m in
                control.get(f"/sandbox/chats/{CHANNEL}/members", bot_id=bot_id).json()["members"]}
    assert statuses == {1000: "creator", bot_id: "administrator", ANN: "left"}


def test_changing_rights_later_is_a_my_chat_member_update(make_bot, control):
    bot, bot_id = make_bot()
    subscribe(bot)
    make_channel(control, bot_id)
    make_channel(control, bot_id, rights={"can_invite_users": False})
    changes = updates_of(bot, "my_chat_member")
    assert changes[-1].old_chat_member.can_invite_users is True
    assert changes[-1].new_chat_member.can_invite_users is False


def test_a_bot_removed_from_a_channel_is_refused_there(make_bot, control):
    bot, bot_id = make_bot()
    make_channel(control, bot_id, bot_status="kicked")
    assert error_of(lambda: bot.get_chat_member(CHANNEL, bot_id)) == (
        403, "Forbidden: bot was kicked from the channel chat")
    make_channel(control, bot_id, bot_status="left")
    assert error_of(lambda: bot.send_message(CHANNEL, "hello")) == (
        403, "Forbidden: bot is not a member of the channel chat")
    make_channel(control, bot_id, rights={"can_invite_users": True})
    assert bot.get_chat_member(CHANNEL, bot_id).status == "administrator"


def test_a_user_blocking_and_unblocking_the_bot_is_a_my_chat_member_update(make_bot, control):
    bot, bot_id = make_bot()
    control.user_says(bot_id, 5571, "hi")
    bot.get_updates(long_polling_timeout=1, allowed_updates=MEMBER_UPDATES)
    for blocked in (True, True, False):  # blocking twice is one change
        control.post("/sandbox/chats", {"chat_id": 5571, "bot_id": bot_id, "blocked": blocked})
    changes = updates_of(bot, "my_chat_member")
    assert [(c.from_user.id, c.old_chat_member.status, c.new_chat_member.status) for c in changes] == [
        (5571, "member", "kicked"), (5571, "kicked", "member")]
    assert changes[0].chat.type == "private"
