"""Groups and channels as a bot administrator sees them: members, administrators and their
rights, and invite links (getChatMember*, getChatAdministrators, *ChatInviteLink)."""

import secrets
import time

from .errors import bad_request
from .methods_send import target_chat

#: The rights Telegram lists on a ChatMemberAdministrator, all granted to the bot by default.
ADMIN_RIGHTS = ("can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
                "can_manage_video_chats", "can_restrict_members", "can_promote_members",
                "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
                "can_delete_stories", "can_pin_messages", "can_manage_topics",
                "can_post_messages", "can_edit_messages", "can_send_welcome_messages")
#: The group's owner, who created it (every sandbox group has one).
OWNER = {"id": 1000, "is_bot": False, "first_name": "Sandbox owner"}
MAX_MEMBER_LIMIT = 99_999
#: Telegram's refusal when the bot lacks a right.
NOT_ENOUGH_RIGHTS = {
    "can_invite_users": "not enough rights to manage chat invite link",
    "can_restrict_members": "not enough rights to restrict/unrestrict chat member",
}


def bot_rights(rights=None):
    """Return the bot's administrator rights: all true, then `rights` overrides."""
    granted = {name: name != "can_be_edited" and name != "is_anonymous" for name in ADMIN_RIGHTS}
    granted.update({name: bool(value) for name, value in (rights or {}).items()
                    if name in ADMIN_RIGHTS})
    return granted


def bot_member(bot, status="administrator", rights=None):
    """Return the bot's ChatMember for a status (an administrator has `rights`)."""
    if status == "administrator":
        return {"status": status, "user": bot.user(), **bot_rights(rights)}
    if status == "kicked":
        return {"status": status, "user": bot.user(), "until_date": 0}
    return {"status": status, "user": bot.user()}


def members(chat, bot):
    """Return {user_id: ChatMember} of a group log, seeding its owner, the bot and the setup's
    members; bans that ran out read as "left"."""
    if chat.members is None:
        setup = chat.setup or {}
        chat.members = {
            OWNER["id"]: {"status": "creator", "user": OWNER, "is_anonymous": False},
            bot.id: bot_member(bot, setup.get("bot_status", "administrator"), setup.get("rights")),
        }
        chat.members.update({member["user"]["id"]: member for member in setup.get("members", [])})
    now = time.time()
    for user_id, member in chat.members.items():
        if member["status"] == "kicked" and 0 < member.get("until_date", 0) <= now:
            chat.members[user_id] = {"status": "left", "user": member["user"]}
    return chat.members


def _group(call):
    chat = target_chat(call)
    if chat.chat["type"] == "private":
        raise bad_request("method is available only for supergroups and channel")
    return chat


def get_chat_member(call):
    """getChatMember: a ChatMember ("left" for someone never seen)."""
    chat = target_chat(call)
    user_id = call.int("user_id", missing="user_id is empty")
    if chat.chat["type"] == "private":
        return _private_member(call, chat, user_id)
    member = members(chat, call.bot).get(user_id)
    return member or {"status": "left", "user": {"id": user_id, "is_bot": False,
                                                 "first_name": f"User {user_id}"}}


def _private_member(call, chat, user_id):
    if user_id == call.bot.id:
        return {"status": "member", "user": call.bot.user()}
    if user_id != chat.chat["id"]:
        raise bad_request("user not found")
    user = {"id": user_id, "is_bot": False, "first_name": chat.chat.get("first_name", "")}
    return {"status": "member", "user": user}


def get_chat_member_count(call):
    """getChatMemberCount: members still in the group (not left or kicked)."""
    chat = target_chat(call)
    if chat.chat["type"] == "private":
        return 2
    return sum(1 for member in members(chat, call.bot).values()
               if member["status"] in ("creator", "administrator", "member")
               or member.get("is_member"))


def get_chat_administrators(call):
    """getChatAdministrators: the creator and administrators."""
    chat = _group(call)
    return [member for member in members(chat, call.bot).values()
            if member["status"] in ("creator", "administrator")]


def require_right(call, chat, right):
    """Raise Telegram's 400 when the bot is not an administrator with `right`."""
    member = members(chat, call.bot).get(call.bot.id, {})
    if member.get("status") != "administrator" or not member.get(right):
        raise bad_request(NOT_ENOUGH_RIGHTS.get(right, "not enough rights"))


def export_chat_invite_link(call):
    """exportChatInviteLink: a new primary link; the previous primary link is revoked."""
    chat = _group(call)
    require_right(call, chat, "can_invite_users")
    for link in chat.invite_links.values():
        if link["is_primary"]:
            link["is_revoked"] = True
    link = _new_link(call, chat, is_primary=True)
    return link["invite_link"]


def create_chat_invite_link(call):
    """createChatInviteLink: name, expire_date, member_limit or creates_join_request."""
    chat = _group(call)
    require_right(call, chat, "can_invite_users")
    return _new_link(call, chat, is_primary=False, **_link_settings(call))


def edit_chat_invite_link(call):
    """editChatInviteLink: change a non-revoked link the bot created."""
    chat = _group(call)
    require_right(call, chat, "can_invite_users")
    link = _own_link(call, chat)
    if link["is_revoked"]:
        raise bad_request("INVITE_HASH_EXPIRED")
    for name in ("name", "expire_date", "member_limit"):
        link.pop(name, None)
    link["creates_join_request"] = False  # always present on a ChatInviteLink
    link.update(_link_settings(call))
    return link


def revoke_chat_invite_link(call):
    """revokeChatInviteLink: the link stops working and is answered with is_revoked."""
    chat = _group(call)
    require_right(call, chat, "can_invite_users")
    link = _own_link(call, chat)
    link["is_revoked"] = True
    return link


def _own_link(call, chat):
    link = chat.invite_links.get(call.str("invite_link", ""))
    if link is None or link["creator"]["id"] != call.bot.id:
        raise bad_request("INVITE_HASH_EXPIRED" if link is None else "CHAT_ADMIN_REQUIRED")
    return link


def _link_settings(call):
    settings = {}
    if call.has("name"):
        if len(call.str("name")) > 32:
            raise bad_request("invite link name is too long")
        settings["name"] = call.str("name")
    if call.has("expire_date"):
        expire_date = int(call.number("expire_date"))  # clients may send a float timestamp
        if expire_date <= time.time():
            raise bad_request("EXPIRE_DATE_INVALID")
        settings["expire_date"] = expire_date
    if call.bool("creates_join_request"):
        if call.has("member_limit"):
            raise bad_request("member limit can't be specified for links requiring "
                              "administrator approval")
        settings["creates_join_request"] = True
    elif call.has("member_limit"):
        limit = call.int("member_limit")
        if not 1 <= limit <= MAX_MEMBER_LIMIT:
            raise bad_request("USAGE_LIMIT_INVALID")
        settings["member_limit"] = limit
    return settings


def _new_link(call, chat, is_primary, **settings):
    url = "https://t.me/+" + secrets.token_urlsafe(12)
    link = {"invite_link": url, "creator": call.bot.user(), "creates_join_request": False,
            "is_primary": is_primary, "is_revoked": False, **settings}
    chat.invite_links[url] = link
    return link
