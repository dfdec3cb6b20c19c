"""A member blocks or restarts the bot: Telegram's my_chat_member update for the private chat."""
from __future__ import annotations

from app.services import members
from bots.context import bot_and_tenant

#: The bot's new status in a private chat, and what it means for the member's session.
BLOCKED, RESTARTED = "kicked", "member"


def on_my_chat_member(update, bot) -> None:
    """kicked: the member blocked the bot (broadcasts skip them); member: they unblocked it."""
    status = update.new_chat_member.status
    if status not in (BLOCKED, RESTARTED):
        return
    row, _tenant = bot_and_tenant(bot)
    if status == BLOCKED:
        members.mark_blocked(row, update.chat.id)
    else:
        members.mark_reachable(row, update.chat.id)


def register(bot) -> None:
    bot.register_my_chat_member_handler(on_my_chat_member, func=lambda u: u.chat.type == "private", pass_bot=True)
