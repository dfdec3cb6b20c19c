"""What Telegram tells the bot about its paid chats: members joining or leaving, join requests, its own rights."""
from __future__ import annotations

from app.services import channels, chat_access
from bots.context import current_bot


def chat_member_changed(update, bot) -> None:
    """chat_member: record who is inside; someone in through another's link or without a right is removed."""
    paid = channels.chat_by_telegram_id(current_bot(bot), update.chat.id)
    user = update.new_chat_member.user if update.new_chat_member else None
    if paid is None or user is None or user.is_bot:
        return
    link = update.invite_link.invite_link if update.invite_link else None
    chat_access.member_status_changed(paid, user.id, update.new_chat_member.status, link)


def join_requested(request, bot) -> None:
    """chat_join_request: approved for a member whose plan covers the chat, declined for anyone else."""
    paid = channels.chat_by_telegram_id(current_bot(bot), request.chat.id)
    if paid is None:
        return
    chat_access.join_requested(paid, request.from_user.id, f"{request.from_user.id}:{request.date}")


def bot_rights_changed(update, bot) -> None:
    """my_chat_member in a group or channel: the owner promoted, restricted or removed the bot there."""
    paid = channels.chat_by_telegram_id(current_bot(bot), update.chat.id)
    if paid is not None and update.new_chat_member is not None:
        channels.store_rights(paid, update.new_chat_member)


def register(bot) -> None:
    bot.register_my_chat_member_handler(bot_rights_changed, func=lambda u: u.chat.type != "private", pass_bot=True)
    bot.register_chat_member_handler(chat_member_changed, pass_bot=True)
    bot.register_chat_join_request_handler(join_requested, pass_bot=True)
