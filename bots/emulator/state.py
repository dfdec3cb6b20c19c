"""In-memory sandbox state, guarded by one lock, with a condition per bot for long-polling."""

import itertools
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from .chats import ChatLog, chat_for_id
from .errors import ApiError, ControlError
from .files import FileStore
from .limits import FaultPlan, RateLimiter, is_send_method

TOKEN_PATTERN = re.compile(r"^(\d{1,20}):([A-Za-z0-9_-]{1,100})$")

#: Update types Telegram leaves out unless they are asked for in allowed_updates.
OPT_IN_UPDATE_TYPES = {"chat_member", "message_reaction", "message_reaction_count"}

#: How many Bot API calls the call log keeps (oldest are forgotten first).
CALL_LOG_SIZE = 100_000


@dataclass
class Webhook:
    """A bot's webhook settings and delivery status."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass(eq=False)
class BotRecord:
    """One bot: identity, webhook, pending updates and chats."""

    id: int
    token: str
    username: str
    first_name: str
    changed: threading.Condition
    revoked: bool = False
    webhook: Webhook | None = None
    allowed_updates: list | None = None
    updates: list = field(default_factory=list)
    chats: dict = field(default_factory=dict)
    polling: bool = False
    #: Bumped by each getUpdates; an older waiting request that sees it change answers 409.
    poll_generation: int = 0
    #: setMyCommands lists by (scope type, chat_id, user_id, language_code).
    commands: dict = field(default_factory=dict)
    #: Webhook delivery records by update_id (see webhooks.Delivery), oldest first.
    deliveries: dict = field(default_factory=dict)
    #: When each pending update was queued (time.time()), for the webhook retention.
    queued_at: dict = field(default_factory=dict)
    #: Set when a reset removed this record; waiters holding it give up.
    detached: bool = False

    def user(self):
        """Return the bot as a Telegram User object."""
        return {"id": self.id, "is_bot": True, "first_name": self.first_name,
                "username": self.username}

    def summary(self):
        """Return the control-side view of the bot."""
        return {"id": self.id, "username": self.username, "first_name": self.first_name,
                "revoked": self.revoked, "webhook_url": self.webhook.url if self.webhook else None}

    def confirm(self, offset):
        """Forget updates confirmed by a getUpdates offset (negative: keep the last -offset)."""
        if offset > 0:
            self.updates = [update for update in self.updates if update["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]

    def deliverable(self, limit, allowed_updates=None):
        """Return up to `limit` pending updates, dropping the types the bot did not ask for."""
        self.updates = [u for u in self.updates if is_allowed(u, allowed_updates)]
        return self.updates[:limit]


def is_allowed(update, allowed_updates):
    """Tell whether an update's type passes an allowed_updates filter."""
    kinds = set(update) - {"update_id"}
    if allowed_updates:
        return bool(kinds & set(allowed_updates))
    return not kinds <= OPT_IN_UPDATE_TYPES


def parse_token(token):
    """Return the bot id of a well-formed token, or raise 404 as Telegram does."""
    match = TOKEN_PATTERN.match(token or "")
    if not match:
        raise ApiError(404, "Not Found")
    return int(match.group(1))


class SandboxState:
    """Everything the sandbox remembers; callers hold `lock` while using it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.closed = False
        # Survives reset(), so a bot still polling with an old offset sees new updates.
        self._update_ids = itertools.count(1)
        #: Notified when a pre-checkout query is answered (POST /sandbox/invoices/<slug>/pay waits).
        self.payments_changed = threading.Condition(self.lock)
        #: update_listener(bot), called (under the lock) when an update is queued for a bot with a
        #: webhook: the webhook dispatcher schedules its delivery.
        self.update_listener = None
        self._clear()

    def _clear(self):
        self.bots = {}
        self.files = FileStore()
        self.calls = deque(maxlen=CALL_LOG_SIZE)
        self.callback_answers = []
        self.callback_query_ids = set()
        self.faults = {}
        self.rate_limits = {}
        #: Chats a bot may write to without the user writing first: {bot_id or None: {id: Chat}}.
        self.reachable = {}
        #: (bot_id or None, chat_id) of users who blocked the bot: sends answer 403.
        self.blocked = set()
        #: Added latency of Bot API calls in ms: {bot_id or None (every bot): ms}.
        self.latency = {}
        #: Messages sent via inline mode, by inline_message_id (see inline.py).
        self.inline_messages = {}
        #: A shorter webhook retention (seconds) set by POST /sandbox/webhook-retention.
        self.webhook_retention = None
        #: Chat setups from POST /sandbox/chats: {(bot_id or None, chat_id): {"bot_status",
        #: "rights", "members"}}, applied when a bot's view of the chat is created.
        self.chat_setups = {}
        #: Invoices by slug, pre-checkout queries (payments) by id, Star charges by
        #: telegram_payment_charge_id and Star subscriptions by their first charge id.
        self.invoices = {}
        self.payments = {}
        self.charges = {}
        self.subscriptions = {}

    def see_bot(self, token):
        """Return the bot a well-formed token names, registering it at its first call."""
        bot_id = parse_token(token)
        return self.bots.get(bot_id) or self._new_bot(bot_id, token)

    @staticmethod
    def authorize(bot, token):
        """Raise 401 when the token was revoked or is not the bot's current token."""
        if bot.revoked or bot.token != token:
            raise ApiError(401, "Unauthorized")

    def register_bot(self, token, username=None, first_name=None):
        """Create or update a bot from its token; a new token for a known id un-revokes it."""
        bot_id = parse_token(token)
        bot = self.bots.get(bot_id) or self._new_bot(bot_id, token)
        bot.token, bot.revoked = token, False
        bot.username = username or bot.username
        bot.first_name = first_name or bot.first_name
        return bot

    def _new_bot(self, bot_id, token):
        bot = BotRecord(id=bot_id, token=token, username=f"sandbox{bot_id}_bot",
                        first_name=f"Sandbox Bot {bot_id}",
                        changed=threading.Condition(self.lock))
        self.bots[bot_id] = bot
        return bot

    def find_bot(self, bot_id):
        """Return a known bot by id, or raise a control-side 404."""
        bot = self.bots.get(bot_id)
        if bot is None:
            raise ControlError(404, f"unknown bot_id {bot_id}")
        return bot

    def revoke(self, bot):
        """Make the bot's token answer 401 and wake anything waiting on it."""
        bot.revoked = True
        bot.changed.notify_all()

    def chat(self, bot, chat_id, user=None):
        """Return the bot's ChatLog for a chat, creating it on first use."""
        log = bot.chats.get(chat_id)
        if log is None:
            chat = self._reachable_chat(bot, chat_id) or chat_for_id(chat_id, user)
            log = self._new_log(bot, chat)
        return log

    def _reachable_chat(self, bot, chat_id):
        return (self.reachable.get(bot.id, {}).get(chat_id)
                or self.reachable.get(None, {}).get(chat_id))

    def _new_log(self, bot, chat):
        log = bot.chats[chat["id"]] = ChatLog(chat)
        log.setup = (self.chat_setups.get((bot.id, chat["id"]))
                     or self.chat_setups.get((None, chat["id"])))
        return log

    def known_chat(self, bot, chat_id):
        """Return the ChatLog of a chat the bot may write to, or raise 400 "chat not found".

        A bot can write to a user who wrote to it (or a chat registered with POST /sandbox/chats),
        as on Telegram, where a bot cannot start a conversation.
        """
        if {(bot.id, chat_id), (None, chat_id)} & self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        log = self.reachable_log(bot, chat_id)
        refusal = log.refusal_for(bot.id)  # a group the bot left or was removed from
        if refusal:
            raise ApiError(403, refusal)
        return log

    def reachable_log(self, bot, chat_id):
        """Return the bot's ChatLog of a chat it wrote in or that was registered, whatever the
        bot's status in it (the control side uses this), or raise 400 "chat not found"."""
        log = bot.chats.get(chat_id)
        if log is not None:
            return log
        chat = self._reachable_chat(bot, chat_id)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return self._new_log(bot, chat)

    def make_reachable(self, bot_id, chat):
        """Let a bot (or every bot, for bot_id None) write to a chat no one wrote from."""
        self.reachable.setdefault(bot_id, {})[chat["id"]] = chat

    def latency_for(self, bot_id):
        """Return the added latency of a bot's calls, in seconds."""
        return self.latency.get(bot_id, self.latency.get(None, 0)) / 1000

    def enqueue(self, bot, update):
        """Assign an update_id, queue the update for the bot and wake its readers."""
        update = {"update_id": next(self._update_ids), **update}
        bot.updates.append(update)
        bot.queued_at[update["update_id"]] = time.time()
        if "callback_query" in update:
            self.callback_query_ids.add(str(update["callback_query"].get("id")))
        bot.changed.notify_all()
        if bot.webhook is not None and self.update_listener is not None:
            self.update_listener(bot)
        return update["update_id"]

    def offer(self, bot, update):
        """Queue an update unless the bot's allowed_updates leave its type out; return its id."""
        if not is_allowed(update, bot.allowed_updates):
            return None
        return self.enqueue(bot, update)

    def admit_call(self, bot, method):
        """Raise the armed fault or rate-limit error for this call, if any."""
        plan = self.faults.get(bot.id)
        error = plan.take(method) if plan else None
        if error:
            raise error
        limiter = self.rate_limits.get(bot.id)
        if limiter and is_send_method(method.lower()):
            limiter.admit(time.monotonic())

    def arm_fault(self, bot_id, method, fault):
        """Make the next calls of a method fail (the bot need not be seen yet)."""
        self.faults.setdefault(bot_id, FaultPlan()).arm(method, fault)

    def set_rate_limit(self, bot_id, per_second):
        """Limit a bot's sends per second; None removes the limit."""
        if per_second is None:
            self.rate_limits.pop(bot_id, None)
        else:
            self.rate_limits[bot_id] = RateLimiter(per_second)

    def record_call(self, bot, method, params, error_code=None):
        """Append a Bot API call to the call log and return its entry."""
        entry = {"bot_id": bot.id, "method": method, "params": params,
                 "at": time.time(), "error_code": error_code}
        self.calls.append(entry)
        return entry

    def reset(self):
        """Forget everything and release whoever waits on the old bots."""
        self._release_bots()
        self._clear()

    def close(self):
        """Mark the sandbox closed and release every waiter."""
        self.closed = True
        self._release_bots()

    def _release_bots(self):
        self.payments_changed.notify_all()
        for bot in self.bots.values():
            bot.detached = True
            bot.changed.notify_all()
