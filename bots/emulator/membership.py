"""Who is in a group or channel, and how that changes: joins through invite links, join requests,
bans and unbans, each told to the bot as a chat_member (or chat_join_request) update."""

import copy
import time

from .chat_admin import _group, members, require_right
from .chats import chat_for_id
from .errors import ControlError, bad_request
from .methods_send import target_chat

#: Statuses of someone in the chat (getChatMemberCount counts them).
PRESENT = ("creator", "administrator", "member", "restricted")
#: Telegram treats a ban shorter than 30 seconds or longer than 366 days as for ever.
MIN_BAN_SECONDS, MAX_BAN_SECONDS = 30, 366 * 86_400


def status_of(chat, bot, user_id):
    """Return a user's current status in a chat ("left" for someone never seen)."""
    member = members(chat, bot).get(user_id)
    return member["status"] if member else "left"


def set_member(state, bot, chat, member, actor, invite_link=None):
    """Give a user a new ChatMember; a changed status is a chat_member update.

    Returns the update_id, or None when the status did not change or the bot did not ask for
    chat_member updates (allowed_updates)."""
    user = member["user"]
    table = members(chat, bot)
    old = table.get(user["id"]) or {"status": "left", "user": user}
    table[user["id"]] = member
    if old["status"] == member["status"]:
        return None
    change = {"chat": chat.chat, "from": actor, "date": int(time.time()),
              "old_chat_member": old, "new_chat_member": member}
    if invite_link:
        change["invite_link"] = public_link(invite_link)
    return state.offer(bot, {"chat_member": copy.deepcopy(change)})


def public_link(link):
    """Return a ChatInviteLink as updates carry it."""
    return copy.deepcopy(link)


# Bot API methods ---------------------------------------------------------------------------


def ban_chat_member(call):
    """banChatMember: the user becomes "kicked" (until_date 0: for ever)."""
    chat = _restrictable(call)
    user = _target_user(call, chat, "remove")
    until = _ban_until(call.int("until_date", 0))
    set_member(call.state, call.bot, chat, {"status": "kicked", "user": user, "until_date": until},
               call.bot.user())
    return True


def unban_chat_member(call):
    """unbanChatMember: a kicked user becomes "left"; without only_if_banned a member is removed."""
    chat = _restrictable(call)
    user_id = call.int("user_id", missing="user_id is empty")
    status = status_of(chat, call.bot, user_id)
    if call.bool("only_if_banned") and status != "kicked":
        return True
    user = _target_user(call, chat, "remove")
    if status in ("kicked", "member", "restricted"):
        set_member(call.state, call.bot, chat, {"status": "left", "user": user}, call.bot.user())
    return True


def approve_chat_join_request(call):
    """approveChatJoinRequest: the requester joins, with the link they asked through."""
    chat, request = _join_request(call)
    link = chat.invite_links.get(request["invite_link"])
    _count_pending(chat, link)
    member = {"status": "member", "user": request["user"]}
    set_member(call.state, call.bot, chat, member, call.bot.user(), link)
    return True


def decline_chat_join_request(call):
    """declineChatJoinRequest: the request is dropped (no update, as on Telegram)."""
    chat, request = _join_request(call)
    _count_pending(chat, chat.invite_links.get(request["invite_link"]))
    return True


def _join_request(call):
    chat = _group(call)
    require_right(call, chat, "can_invite_users")
    request = chat.join_requests.pop(call.int("user_id", missing="user_id is empty"), None)
    if request is None:
        raise bad_request("HIDE_REQUESTER_MISSING")
    return chat, request


def _restrictable(call):
    chat = target_chat(call)
    if chat.chat["type"] == "private":
        raise bad_request("can't ban members in private chats")
    require_right(call, chat, "can_restrict_members")
    return chat


def _target_user(call, chat, act):
    """Return the User a ban or unban acts on; the owner and administrators are refused."""
    user_id = call.int("user_id", missing="user_id is empty")
    member = members(chat, call.bot).get(user_id)
    if member and member["status"] == "creator":
        raise bad_request(f"can't {act} chat owner")
    if member and member["status"] == "administrator":
        raise bad_request("user is an administrator of the chat")
    if member:
        return member["user"]
    return {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}


def _ban_until(until_date):
    seconds = until_date - time.time()
    return until_date if MIN_BAN_SECONDS <= seconds <= MAX_BAN_SECONDS else 0


def _count_pending(chat, link):
    if link is None:
        return
    pending = sum(1 for request in chat.join_requests.values()
                  if request["invite_link"] == link["invite_link"])
    link["pending_join_request_count"] = pending


# Control side --------------------------------------------------------------------------------


def join(state, bot, chat, user, link_url=None):
    """A user follows an invite link (or joins a public chat): join, or ask to join."""
    status = status_of(chat, bot, user["id"])
    if status == "kicked":
        raise ControlError(403, "USER_BANNED_IN_CHANNEL")
    if status in PRESENT:
        raise ControlError(400, "USER_ALREADY_PARTICIPANT")
    link = _usable_link(chat, link_url) if link_url else None
    if link and link["creates_join_request"]:
        return _ask_to_join(state, bot, chat, user, link)
    if link:
        chat.link_uses[link["invite_link"]] = chat.link_uses.get(link["invite_link"], 0) + 1
    update_id = set_member(state, bot, chat, {"status": "member", "user": user}, user, link)
    return {"status": "member", "update_id": update_id}


def leave(state, bot, chat, user_id):
    """A user leaves the chat."""
    member = members(chat, bot).get(user_id)
    if member is None or member["status"] not in PRESENT:
        raise ControlError(400, "USER_NOT_PARTICIPANT")
    if member["status"] == "creator":
        raise ControlError(400, "the creator cannot leave in the sandbox")
    user = member["user"]
    return {"status": "left",
            "update_id": set_member(state, bot, chat, {"status": "left", "user": user}, user)}


def _usable_link(chat, url):
    link = chat.invite_links.get(url)
    if link is None:
        raise ControlError(400, "INVITE_HASH_INVALID")
    if link["is_revoked"]:
        raise ControlError(400, "INVITE_HASH_EXPIRED", reason="revoked")
    if link.get("expire_date") and link["expire_date"] <= time.time():
        raise ControlError(400, "INVITE_HASH_EXPIRED", reason="expired")
    if link.get("member_limit") and chat.link_uses.get(url, 0) >= link["member_limit"]:
        raise ControlError(400, "INVITE_HASH_EXPIRED", reason="member_limit")
    return link


def _ask_to_join(state, bot, chat, user, link):
    if user["id"] in chat.join_requests:
        raise ControlError(400, "INVITE_REQUEST_SENT")
    now = int(time.time())
    chat.join_requests[user["id"]] = {"user": user, "invite_link": link["invite_link"], "date": now}
    _count_pending(chat, link)
    state.make_reachable(bot.id, chat_for_id(user["id"], user))  # the bot may write to them
    request = {"chat": chat.chat, "from": user, "user_chat_id": user["id"], "date": now,
               "invite_link": public_link(link)}
    return {"status": "requested",
            "update_id": state.offer(bot, {"chat_join_request": copy.deepcopy(request)})}


def listing(chat, bot):
    """Return the control-side view of a chat's members, join requests and links."""
    requests = [{"user_id": user_id, "invite_link": request["invite_link"],
                 "date": request["date"]} for user_id, request in chat.join_requests.items()]
    links = [{**link, "uses": chat.link_uses.get(url, 0)}
             for url, link in chat.invite_links.items()]
    return {"members": list(members(chat, bot).values()), "join_requests": requests,
            "invite_links": links}
