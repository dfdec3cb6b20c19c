"""Control endpoints for chats: register a chat (with the bot's rights and members), list its
members, and make users join (through invite links) or leave."""

import copy
import time

from .botapi import json_response
from .chat_admin import OWNER, bot_member, bot_rights, members
from .chats import chat_for_id
from .control import int_value, json_body
from .errors import ApiError, ControlError
from .membership import join, leave, listing

CHAT_TYPES = ("group", "supergroup", "channel")
BOT_STATUSES = ("administrator", "member", "left", "kicked")
MEMBER_STATUSES = ("member", "administrator", "creator", "kicked", "left")


def register_chat(sandbox, request):
    """POST /sandbox/chats {"chat_id", "bot_id"?, "first_name"?, "title"?, "blocked"?, "type"?,
    "bot_status"?, "rights"?, "members"?}.

    On Telegram a bot can only write to users who started it and to groups it is in; tests that
    configure an admin chat id register it here (for one bot, or every bot without bot_id).
    "blocked": true makes sends to the chat answer 403 "Forbidden: bot was blocked by the user"
    (false lifts it). "rights"/"bot_status" set the bot's place in a group or channel and, for a
    named bot, send it a my_chat_member update (docs/sandbox.md).
    """
    body = json_body(request)
    chat_id = int_value(body.get("chat_id"), "chat_id")
    bot_id = int_value(body.get("bot_id"), "bot_id", required=False)
    chat = _chat_object(body, chat_id)
    setup = _setup(body, chat)
    with sandbox.state.lock:
        state = sandbox.state
        state.make_reachable(bot_id, chat)
        _apply_blocked(state, body, chat)
        if setup is not None:
            state.chat_setups[(bot_id, chat_id)] = setup
            _apply_setup(state, bot_id, chat, setup)
    return json_response({"ok": True, "chat": chat}, 201)


def _chat_object(body, chat_id):
    chat = chat_for_id(chat_id)
    kind = body.get("type")
    if kind is not None:
        if kind not in CHAT_TYPES or chat_id > 0:
            raise ControlError(400, '"type" must be group, supergroup or channel (negative chat_id)')
        chat["type"] = kind
    for name in ("first_name", "last_name", "username", "title"):
        if isinstance(body.get(name), str) and body[name]:
            chat[name] = body[name]
    return chat


def _setup(body, chat):
    if not any(name in body for name in ("type", "rights", "bot_status", "members")):
        return None
    if chat["type"] == "private":
        raise ControlError(400, "type, rights, bot_status and members are for groups and channels")
    rights = body.get("rights") or {}
    status = body.get("bot_status", "administrator")
    if not isinstance(rights, dict) or status not in BOT_STATUSES:
        raise ControlError(400, '"rights" must be an object, "bot_status" one of '
                                + ", ".join(BOT_STATUSES))
    return {"rights": rights, "bot_status": status, "members": _members(body.get("members"))}


def _members(items):
    if items is None:
        return []
    if not isinstance(items, list):
        raise ControlError(400, '"members" must be a list of {"id", "first_name"?, "status"?}')
    return [_member(item) for item in items]


def _member(item):
    if not isinstance(item, dict):
        raise ControlError(400, '"members" items must be objects')
    user = {"id": int_value(item.get("id"), "members.id"), "is_bot": False,
            "first_name": str(item.get("first_name") or f"User {item.get('id')}")}
    status = item.get("status", "member")
    if status not in MEMBER_STATUSES:
        raise ControlError(400, '"status" must be one of ' + ", ".join(MEMBER_STATUSES))
    member = {"status": status, "user": user}
    if status == "kicked":
        member["until_date"] = 0
    if status == "creator":
        member["is_anonymous"] = False
    if status == "administrator":
        member.update(bot_rights())
    return member


def _apply_blocked(state, body, chat):
    """Block or unblock; a user who blocks (or unblocks) a named bot sends it my_chat_member."""
    bot_id, blocked = body.get("bot_id"), body.get("blocked")
    key = (int(bot_id) if bot_id is not None else None, chat["id"])
    if not isinstance(blocked, bool) or (key in state.blocked) == blocked:
        return
    if blocked:
        state.blocked.add(key)
    else:
        state.blocked.discard(key)
    bot = state.bots.get(key[0])
    if bot is not None and chat["type"] == "private":
        statuses = ({"status": "member"}, {"status": "kicked", "until_date": 0})
        old, new = statuses if blocked else statuses[::-1]
        user = {"id": chat["id"], "is_bot": False, "first_name": chat.get("first_name", "")}
        change = {"chat": chat, "from": user, "date": int(time.time()),
                  "old_chat_member": {**old, "user": bot.user()},
                  "new_chat_member": {**new, "user": bot.user()}}
        state.offer(bot, {"my_chat_member": change})


def _apply_setup(state, bot_id, chat, setup):
    """Bring existing views of the chat up to the setup; a named bot hears of its new status."""
    bots = [state.find_bot(bot_id)] if bot_id is not None else list(state.bots.values())
    for bot in bots:
        if bot_id is None and chat["id"] not in bot.chats:
            continue  # created with the setup when the bot first uses the chat
        log = state.reachable_log(bot, chat["id"]) if bot_id is not None else bot.chats[chat["id"]]
        log.chat.update(chat)
        log.setup = setup
        old = copy.deepcopy(members(log, bot).get(bot.id)) if log.members else None
        table = members(log, bot)
        table.update({member["user"]["id"]: member for member in setup["members"]})
        table[bot.id] = bot_member(bot, setup["bot_status"], setup["rights"])
        if bot_id is not None and old != table[bot.id]:
            _my_chat_member(state, bot, log, old or {"status": "left", "user": bot.user()})


def _my_chat_member(state, bot, log, old):
    change = {"chat": log.chat, "from": OWNER, "date": int(time.time()),
              "old_chat_member": old, "new_chat_member": members(log, bot)[bot.id]}
    state.offer(bot, {"my_chat_member": copy.deepcopy(change)})


def chat_members(sandbox, request, chat_id):
    """GET /sandbox/chats/<chat_id>/members?bot_id=."""
    bot_id = int_value(request.args.get("bot_id"), "bot_id")
    with sandbox.state.lock:
        bot = sandbox.state.find_bot(bot_id)
        return json_response(listing(_group_log(sandbox.state, bot, chat_id), bot))


def join_chat(sandbox, request, chat_id):
    """POST /sandbox/chats/<chat_id>/join {"user_id", "first_name"?, "invite_link"?, "bot_id"?}."""
    body = json_body(request)
    user = {"id": int_value(body.get("user_id"), "user_id"), "is_bot": False,
            "first_name": str(body.get("first_name") or "User")}
    link = body.get("invite_link")
    with sandbox.state.lock:
        state = sandbox.state
        bot = _bot_for(state, body, chat_id, link)
        return json_response(join(state, bot, _group_log(state, bot, chat_id), user, link))


def leave_chat(sandbox, request, chat_id):
    """POST /sandbox/chats/<chat_id>/leave {"user_id", "bot_id"}."""
    body = json_body(request)
    user_id = int_value(body.get("user_id"), "user_id")
    with sandbox.state.lock:
        state = sandbox.state
        bot = state.find_bot(int_value(body.get("bot_id"), "bot_id"))
        return json_response(leave(state, bot, _group_log(state, bot, chat_id), user_id))


def _bot_for(state, body, chat_id, link):
    """The bot named in the body, or the one whose view of the chat holds the link."""
    if body.get("bot_id") is not None:
        return state.find_bot(int_value(body.get("bot_id"), "bot_id"))
    if not link:
        raise ControlError(400, '"bot_id" is required without "invite_link"')
    for bot in state.bots.values():
        log = bot.chats.get(chat_id)
        if log is not None and link in log.invite_links:
            return bot
    raise ControlError(400, "INVITE_HASH_INVALID")


def _group_log(state, bot, chat_id):
    log = bot.chats.get(chat_id)
    if log is None:
        try:
            log = state.reachable_log(bot, chat_id)
        except ApiError:  # "chat not found"
            raise ControlError(404, f"chat {chat_id} is not known to bot {bot.id}") from None
    if log.chat["type"] == "private":
        raise ControlError(400, "not a group or channel")
    return log


def block_bot(sandbox, request, user_id):
    """POST /sandbox/users/<user_id>/block {"bot_id"}: the user blocks the bot, as in Telegram's app.

    Sends to the user's private chat answer 403 "Forbidden: bot was blocked by the user" from now on, and
    the bot gets a my_chat_member update (its status member → kicked, `from` the user).
    """
    return _set_blocked(sandbox, request, user_id, blocked=True)


def unblock_bot(sandbox, request, user_id):
    """POST /sandbox/users/<user_id>/unblock {"bot_id"}: the user restarts the bot (kicked → member)."""
    return _set_blocked(sandbox, request, user_id, blocked=False)


def _set_blocked(sandbox, request, user_id, *, blocked):
    if user_id <= 0:
        raise ControlError(400, "a user id is positive")
    body = json_body(request)
    with sandbox.state.lock:
        state = sandbox.state
        bot = state.find_bot(int_value(body.get("bot_id"), "bot_id"))
        key = (bot.id, user_id)
        if (key in state.blocked) == blocked:
            return json_response({"ok": True, "changed": False})
        chat = copy.deepcopy(state.chat(bot, user_id).chat)
        (state.blocked.add if blocked else state.blocked.discard)(key)
        user = {"id": user_id, "is_bot": False, "first_name": chat["first_name"]}
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        change = {"chat": chat, "from": user, "date": int(time.time()),
                  "old_chat_member": _bot_status(bot, old), "new_chat_member": _bot_status(bot, new)}
        update_id = state.offer(bot, {"my_chat_member": change})
    return json_response({"ok": True, "changed": True, "update_id": update_id})


def _bot_status(bot, status):
    member = {"user": bot.user(), "status": status}
    if status == "kicked":
        member["until_date"] = 0
    return member
