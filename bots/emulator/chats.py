"""Per-chat message logs: both sides of a conversation, with current (edited) content."""

import time
from dataclasses import dataclass


@dataclass(eq=False)
class MessageRecord:
    """One message in a chat; `message` is the Telegram Message object as it is now."""

    message: dict
    from_bot: bool
    #: Any keyboard sent with the message; Message objects only carry inline keyboards.
    markup: dict | None = None
    edited: bool = False
    deleted: bool = False
    #: The sandbox slug of an invoice message (POST /sandbox/invoices/<slug>/pay).
    invoice_slug: str | None = None

    def set_markup(self, markup):
        """Attach a keyboard (or None to remove it) the way Telegram shows it."""
        self.markup = markup
        if markup and "inline_keyboard" in markup:
            self.message["reply_markup"] = markup
        else:
            self.message.pop("reply_markup", None)

    @property
    def message_id(self):
        """Return the id of the message within its chat."""
        return self.message["message_id"]

    def log_entry(self):
        """Return the control-side view of the message."""
        message = self.message
        entry = {
            "message_id": message["message_id"],
            "from_bot": self.from_bot,
            "text": message.get("text"),
            "caption": message.get("caption"),
            "photo": message["photo"][-1]["file_id"] if message.get("photo") else None,
            "document": message["document"]["file_id"] if message.get("document") else None,
            "reply_markup": self.markup,
            "edited": self.edited,
            "date": message["date"],
        }
        if "invoice" in message:
            entry["invoice"] = {"slug": self.invoice_slug, **message["invoice"]}
        for name in ("successful_payment", "refunded_payment"):
            if name in message:
                entry[name] = message[name]
        return entry


class ChatLog:
    """The messages of one chat between one bot and its users, in order."""

    def __init__(self, chat):
        self.chat = chat
        self.records = []
        self._last_message_id = 0
        #: Ids of pinned messages, the most recently pinned last.
        self.pinned = []
        #: Groups and channels: {user_id: ChatMember}, seeded on first use (see chat_admin).
        self.members = None
        #: Groups and channels: ChatInviteLink objects by their URL.
        self.invite_links = {}
        #: How many users joined through each invite link (for member_limit).
        self.link_uses = {}
        #: Pending join requests: {user_id: {"user", "invite_link", "date"}}.
        self.join_requests = {}
        #: What POST /sandbox/chats asked for this chat (bot rights, members), or None.
        self.setup = None

    def add(self, sender, content, from_bot, markup=None):
        """Append a message from `sender` (a User object) and return its record."""
        self._last_message_id += 1
        message = {"message_id": self._last_message_id, "from": sender, "chat": self.chat,
                   "date": int(time.time()), **content}
        record = MessageRecord(message=message, from_bot=from_bot)
        record.set_markup(markup)
        self.records.append(record)
        return record

    def put(self, message, from_bot):
        """Log a message given whole (a raw update's); a known message_id is replaced."""
        message = {"chat": self.chat, "date": int(time.time()), **message}
        if "message_id" not in message:
            self._last_message_id += 1
            message["message_id"] = self._last_message_id
        self._last_message_id = max(self._last_message_id, int(message["message_id"]))
        record = self.find(message["message_id"])
        if record is None:
            record = MessageRecord(message=message, from_bot=from_bot)
            self.records.append(record)
        else:
            record.message, record.edited = message, True
        record.set_markup(message.get("reply_markup"))
        return record

    def find(self, message_id):
        """Return the live record with this id, or None."""
        for record in reversed(self.records):
            if record.message_id == message_id:
                return None if record.deleted else record
        return None

    def refusal_for(self, bot_id):
        """Return Telegram's 403 text when the bot left or was removed from this group, else None."""
        if self.members is not None:
            status = self.members.get(bot_id, {}).get("status")
        else:
            status = (self.setup or {}).get("bot_status")
        kind = self.chat.get("type")
        if status == "left":
            return f"Forbidden: bot is not a member of the {kind} chat"
        if status == "kicked":
            return f"Forbidden: bot was kicked from the {kind} chat"
        return None

    def pinned_message(self):
        """Return the most recently pinned live message, or None."""
        live = [self.find(message_id) for message_id in self.pinned]
        live = [record for record in live if record is not None]
        return live[-1].message if live else None

    def log_entries(self):
        """Return the control-side view of every live message."""
        return [record.log_entry() for record in self.records if not record.deleted]


def chat_for_id(chat_id, user=None):
    """Return the Chat object for a chat id: private for users, a group for negative ids."""
    if chat_id < 0:
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": f"Sandbox group {chat_id}"}
    chat = {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
    if user and user.get("id") == chat_id:
        names = ("first_name", "last_name", "username")
        chat.update({key: user[key] for key in names if key in user})
    return chat
