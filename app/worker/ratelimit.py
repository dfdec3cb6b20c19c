"""Telegram's send limits, shared by every process that sends for a bot (the `limits` library).

Telegram refuses (429) a bot that sends more than about 30 messages a second, more than one a second
to one chat, or more than 20 a minute to one group. Before a send, `wait_before_send(bot_id, chat_id)`
counts it against those limits and answers 0 (go now, counted) or the seconds to wait (nothing
counted); the caller then reschedules the message (`outbox.Retry`), it never sleeps (a send with a reservation key
may be paused up to PAUSE_SECONDS for its slot, below).

The counts are moving windows (in no window of one second are there more than 30 sends of a bot; a
chat's and a group's are `limits.MovingWindowRateLimiter`'s) kept in Redis when the queue is distributed (QUEUE_URL set), so
every `flask worker` on every host draws on the same budget, and in this process's memory otherwise
(the in-process pool is then the only sender). The storage is TELEGRAM_LIMITS_STORAGE_URL, else
REDIS_URL, else a redis:// QUEUE_URL.

**Reservations** (`take(bot, chats, keys)`: a broadcast's sends, keyed by their outbox row). A held send used to be
told when a slot might free and to take again when it came back; it came back a claim round after the slot freed
(or after another send took it), so every slot of the window was reused a little late and the bot sent ~27 of its
30 a second. Now a send with a key that cannot go reserves the bot's next slot: the bot's schedule gives out slots
first come, first served, never more than the limit in a window of the schedule and, once it is full, a limit-th of
a window apart (so a send that goes late does not push the slots after it, and a stall delays only the slots it
hits). The held send is told to come back PAUSE_SECONDS before its slot; with its key it is then paused (in
`take`) until the slot and goes without taking again, ahead of every send that has none. The window of counted
times is still checked: if an earlier reserved send went late and the window has no room at the slot, this one
waits until it has, keeping its reservation. So no window ever holds more than the limit, and a send never goes
before the time it is counted at. A reservation is used once; one not used `RESERVATION_GRACE_SECONDS` after its
slot lapses (its send, if it ever comes, takes afresh) and no longer counts, and `release` gives reservations up
(a send held by its chat's limit, a paused or cancelled broadcast's), so their slots go to the next sends. Sends
without a key (replies, notices) count against the same window but not the schedule, and are never paused: they
go whenever it has room, and a reserved send that finds that room taken waits until it frees.

A bot's window can be counted a guard longer than Telegram's (`TELEGRAM_LIMIT_GUARD_SECONDS`, default 0.03 s): we
count a send when its token is taken, Telegram (and the sandbox) when the request arrives, and between the two
lie the `sending` commit and the thread's turn for the CPU. With a window exactly Telegram's, a send taken a second
after the 30th before it whose path was shorter arrives inside that one's window: the 31st, a 429 (that message a
second late, its token wasted). With a guard, delays that differ by less than it never do; it costs at most
30 / (1 + guard) sends a second. With reservations (below) a held send goes right at the edge of the window, so
the guard is its only margin: 0.03 s by default (a 1,500-member broadcast got 83 429s without it, 20 with it;
docs/performance.md, "B1: reserved slots").
"""
from __future__ import annotations

import bisect
import random
import threading
import time
from collections import deque

from flask import Flask, current_app
from limits import RateLimitItem, parse, storage, strategies

from app import rate_limit_storage

_KEY = "telegram_limits"
_BUILDING = threading.Lock()
#: A bot's window is counted this much longer than Telegram's (see the module's docstring).
GUARD_SECONDS = 0.03
#: Held sends without a reservation come back spread over the time the limit's slots free (a moving window of 30
#: a second frees its slots over the next second, in the order they were taken), at most this far ahead, so they
#: neither all come back in one instant nor come back long after their slot freed.
JITTER_SECONDS = 1.0
#: Spread when only one slot frees (one message a second to a chat) or it frees later than the spread.
SLOT_JITTER_SECONDS = 0.1
#: A reservation not used this long after its slot lapses: the send then takes afresh and the slot no longer counts.
RESERVATION_GRACE_SECONDS = 2.0
#: A send with a key whose counted time (its reserved slot, or the moment the window has room for it) is at most
#: this far ahead is paused for it in `take` and goes then, instead of being held for another claim round: that
#: round made the slot late again, each window after the other. Sends without a key are never paused.
PAUSE_SECONDS = 0.03
#: Redis: a bot's sends with reservations (see the module's docstring); per send the seconds to wait (until its
#: reserved slot, or until the window has room; nothing counted) or, <= 0, minus the pause before it goes (counted). KEYS: the window (a list of counted times,
#: newest first, at most ARGV[1]), the schedule (a sorted set: member -> slot), the reservations (key -> slot), a
#: counter. ARGV: limit, window, grace, pause, now ('' = Redis's clock: hosts' clocks may differ), then one key per
#: send ('' = none: the window only, nothing reserved).
_SLOTS = """
local limit, window, grace, pause = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now
if ARGV[5] ~= '' then now = tonumber(ARGV[5]) else
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local function fmt(x) return string.format('%.6f', x) end
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. fmt(now - grace))
for _, key in ipairs(lapsed) do redis.call('ZREM', KEYS[2], 'r:' .. key) end
if #lapsed > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. fmt(now - grace)) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', fmt(now - window))
local function counted_at(t)
  local newest = redis.call('LINDEX', KEYS[1], 0)
  if newest then t = math.max(t, tonumber(newest)) end
  local oldest = redis.call('LINDEX', KEYS[1], limit - 1)
  if oldest then t = math.max(t, tonumber(oldest) + window) end
  return t
end
local function send(t)
  redis.call('LPUSH', KEYS[1], fmt(t))
  redis.call('LTRIM', KEYS[1], 0, limit - 1)
  redis.call('PEXPIRE', KEYS[1], math.ceil((t - now + window) * 1000) + 1000)
end
local function next_slot()
  local t = now
  local last = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if last[2] then t = math.max(t, tonumber(last[2])) end
  local lth = redis.call('ZREVRANGE', KEYS[2], limit - 1, limit - 1, 'WITHSCORES')
  if lth[2] then t = math.max(t, tonumber(lth[2]) + window) end
  if t > now and last[2] then t = math.max(t, tonumber(last[2]) + window / limit) end
  return t
end
local out = {}
for i = 6, #ARGV do
  local key, wait = ARGV[i], 0
  local slot = nil
  if key ~= '' then slot = redis.call('ZSCORE', KEYS[3], key) end
  if slot then
    local at = counted_at(math.max(now, tonumber(slot)))
    if at - now <= pause + 1e-6 then
      send(at)
      redis.call('ZREM', KEYS[3], key)
      wait = now - at
    else wait = at - now - pause end
  elseif key == '' then
    local at = counted_at(now)
    if at - now <= 1e-6 then send(at) else wait = at - now end
  else
    local at = counted_at(next_slot())
    if at - now <= pause + 1e-6 then
      send(at)
      redis.call('ZADD', KEYS[2], fmt(at), 's:' .. redis.call('INCR', KEYS[4]))
      wait = now - at
    else
      redis.call('ZADD', KEYS[2], fmt(at), 'r:' .. key)
      redis.call('ZADD', KEYS[3], fmt(at), key)
      wait = at - now - pause
    end
  end
  out[#out + 1] = fmt(wait)
end
local last = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local keep = math.ceil(math.max(tonumber(last[2] or now) - now, 0) + grace + window) + 60
for k = 2, 4 do redis.call('EXPIRE', KEYS[k], keep) end
return out
"""
#: Redis: give up reservations (ARGV: keys; none: all of the bot's), so their slots count no more.
_RELEASE = """
local keys = ARGV
if #keys == 0 then keys = redis.call('ZRANGE', KEYS[2], 0, -1) end
for _, key in ipairs(keys) do
  redis.call('ZREM', KEYS[2], key)
  redis.call('ZREM', KEYS[1], 'r:' .. key)
end
return #keys
"""


#: Seconds of floating-point slack in comparing a counted time with the clock (the Lua script's 1e-6 too).
_EPSILON = 1e-6
_NOW = "local t = redis.call('TIME') return tostring(tonumber(t[1]) + tonumber(t[2]) / 1000000)"


class _BotSlots:
    """One bot's window, schedule and reservations in this process's memory (the same rules as _SLOTS in Redis)."""

    def __init__(self):
        self.sent: deque[float] = deque()  # the times the last `limit` sends were counted at, oldest first
        self.schedule: list[float] = []  # slots given out (sends and reservations), sorted, newer than a window
        self.reserved: dict[str, float] = {}  # key -> slot, in slot order (reservations are made in slot order)

    def take(self, now: float, keys: list[str | None], limit: int, window: float, grace: float) -> list[float]:
        while self.reserved:
            key, slot = next(iter(self.reserved.items()))
            if slot >= now - grace:
                break
            self._drop(key)
        while self.schedule and self.schedule[0] <= now - window:
            self.schedule.pop(0)
        waits = []
        for key in keys:
            key = None if key is None else str(key)
            slot = self.reserved.get(key) if key is not None else None
            if slot is not None:  # a reservation: at its slot it goes if the window has room, without a new slot
                at = self._counted_at(max(now, slot), limit, window)
            elif key is None:  # no reservation to make: the window only
                at = self._counted_at(now, limit, window)
            else:  # after every slot given out (first come, first served) and a window after the limit-th last;
                # a reserved one also 1/limit of a window after the last
                due = max([now] + self.schedule[-1:])
                if len(self.schedule) >= limit:
                    due = max(due, self.schedule[-limit] + window)
                if due > now and self.schedule:
                    due = max(due, self.schedule[-1] + window / limit)
                at = self._counted_at(due, limit, window)
            pause = PAUSE_SECONDS if key is not None else 0.0
            if at - now > pause + _EPSILON:
                waits.append(at - now - pause)
                if key is not None and slot is None:
                    bisect.insort(self.schedule, at)
                    self.reserved[key] = at
                continue
            waits.append(now - at)
            self.sent.append(at)
            if len(self.sent) > limit:
                self.sent.popleft()
            if slot is not None:
                del self.reserved[key]
            elif key is not None:
                self.schedule.append(at)
        return waits

    def _counted_at(self, at: float, limit: int, window: float) -> float:
        """The earliest time from `at` the window can count one more send at (counted times stay in order)."""
        if self.sent:
            at = max(at, self.sent[-1])
        if len(self.sent) >= limit:
            at = max(at, self.sent[-limit] + window)
        return at

    def release(self, keys: list[str] | None) -> None:
        for key in list(self.reserved) if keys is None else [str(k) for k in keys]:
            self._drop(key)

    def _drop(self, key: str) -> None:
        slot = self.reserved.pop(key, None)
        if slot is not None:
            at = bisect.bisect_left(self.schedule, slot)
            if at < len(self.schedule) and self.schedule[at] == slot:
                del self.schedule[at]

    def inside(self, now: float, window: float) -> int:
        return sum(1 for sent in self.sent if now - window < sent)


class TelegramLimits:
    """The per-bot, per-chat and per-group limits over one storage."""

    def __init__(self, storage_uri: str, *, per_bot: str, per_chat: str, per_group: str,
                 key_prefix: str = "botfleet-telegram", guard: float = GUARD_SECONDS,
                 grace: float = RESERVATION_GRACE_SECONDS, clock=None, sleep=time.sleep):
        """:param clock: the bot's window's clock and `sleep` the pause's (tests); default Redis's clock (shared by
            every host), else time.time."""
        options = {"key_prefix": key_prefix} if not storage_uri.startswith("memory") else {}
        self.storage = storage.storage_from_string(storage_uri, **options)
        self.limiter = strategies.MovingWindowRateLimiter(self.storage)
        self.per_bot, self.per_chat, self.per_group = parse(per_bot), parse(per_chat), parse(per_group)
        #: The bot's window as we count it: Telegram's plus the guard.
        self.bot_window = self.per_bot.get_expiry() + max(guard, 0.0)
        self.grace = grace
        self._clock, self._sleep = clock, sleep
        self._redis = isinstance(self.storage, storage.RedisStorage)
        self._bots: dict[int, _BotSlots] = {}  # memory storage: each bot's window, schedule and reservations
        self._bots_lock = threading.Lock()

    def wait_before_send(self, bot_id: int, chat_id: int | str | None, *, per_chat: bool = True) -> float:
        """Count one send of `bot_id` to `chat_id` and answer 0, or the seconds to wait (nothing counted).

        :param per_chat: False for the reply to the user's own update (Telegram allows a short burst in a
            chat); it still counts against the bot's limit.
        """
        return self.take(bot_id, [chat_id if per_chat else None])[0]

    def take(self, bot_id: int, chat_ids: list[int | str | None], keys: list[str] | None = None) -> list[float]:
        """Count several sends of one bot: per send 0 (go now, counted) or the seconds to wait.

        :param chat_ids: per send its chat (None: the bot's limit only), whose limits are tested first and counted
            when the send goes.
        :param keys: per send a reservation key (e.g. its outbox row's id) or None. A send with a key that cannot go
            now reserves the bot's next free slot and is told to come back PAUSE_SECONDS before it; coming back with
            the same key, it is paused here until the slot and goes without taking again, ahead of sends without a
            reservation for that slot (see the module's docstring). Without a key nothing is counted for a held
            send, and nothing is paused.
        """
        keys = keys or [None] * len(chat_ids)
        waits = [0.0] * len(chat_ids)
        candidates = []
        for i, chat_id in enumerate(chat_ids):
            wait = self._chat_wait(bot_id, chat_id, hit=False)
            if wait:
                waits[i] = wait
            else:
                candidates.append(i)
        held_by_chat = [keys[i] for i, wait in enumerate(waits) if wait and keys[i] is not None]
        if held_by_chat:  # a reservation this send cannot use now frees its slot
            self.release(bot_id, held_by_chat)
        if not candidates:
            return waits
        bot_waits = self._slots(bot_id, [keys[i] for i in candidates])
        pause = max([-wait for wait in bot_waits if wait <= 0], default=0.0)
        if pause > 0:  # at most PAUSE_SECONDS: the sends are counted then, so they go then, not before
            self._sleep(pause)
        for i, wait in zip(candidates, bot_waits):
            if wait > 0:
                waits[i] = wait if keys[i] is not None else self._spread(self.per_bot, wait)
            else:  # another sender may have taken the chat's slot since the test above
                waits[i] = self._chat_wait(bot_id, chat_ids[i], hit=True)
        return waits

    def release(self, bot_id: int, keys: list[str] | None = None) -> None:
        """Give up the bot's reservations of `keys` (None: all of them), so their slots go to other sends. A send
        whose reservation is gone takes afresh when it comes back."""
        if self._redis:
            self.storage.get_connection().eval(_RELEASE, 2, *self._bot_keys(bot_id)[1:3], *[str(k) for k in keys or []])
            return
        with self._bots_lock:
            self._bots.setdefault(bot_id, _BotSlots()).release(keys)

    def _chat_wait(self, bot_id: int, chat_id: int | str | None, *, hit: bool) -> float:
        if chat_id is None:
            return 0.0
        chat_key = ("chat", str(bot_id), str(chat_id))
        for item in self._chat_limits(chat_id):
            if not (self.limiter.hit if hit else self.limiter.test)(item, *chat_key):
                return self._wait(item, chat_key)
        return 0.0

    def sends_in_window(self, bot_id: int) -> int:
        """How many sends of the bot its current one-window budget holds (for tests and the dashboard)."""
        if self._redis:
            now = self._now() or float(self.storage.get_connection().eval(_NOW, 0))
            sent = self.storage.get_connection().lrange(self._bot_keys(bot_id)[0], 0, -1)
            return sum(1 for entry in sent if float(entry) > now - self.bot_window)
        with self._bots_lock:
            return self._bots.setdefault(bot_id, _BotSlots()).inside(self._now() or time.time(), self.bot_window)

    def _slots(self, bot_id: int, keys: list[str | None]) -> list[float]:
        """The bot's part of `take` (atomically, in Redis or this process's memory): per send 0 or seconds to wait."""
        limit, window = self.per_bot.amount, self.bot_window
        if self._redis:
            now = self._now()
            waits = self.storage.get_connection().eval(
                _SLOTS, 4, *self._bot_keys(bot_id), limit, window, self.grace, PAUSE_SECONDS,
                "" if now is None else repr(now), *["" if key is None else str(key) for key in keys])
            return [float(wait) for wait in waits]
        with self._bots_lock:
            slots = self._bots.setdefault(bot_id, _BotSlots())
            return slots.take(self._now() or time.time(), keys, limit, window, self.grace)

    def _bot_keys(self, bot_id: int) -> list[str]:
        return [self.storage.prefixed_key(f"bot-{part}/{bot_id}") for part in ("window", "schedule", "reserved", "seq")]

    def _now(self) -> float | None:
        return self._clock() if self._clock is not None else None

    def reset(self) -> None:
        self.storage.reset()
        self._bots.clear()

    def _chat_limits(self, chat_id: int | str) -> list[RateLimitItem]:
        is_group = str(chat_id).startswith("-") or (isinstance(chat_id, str) and chat_id.startswith("@"))
        return [self.per_chat, self.per_group] if is_group else [self.per_chat]

    def _wait(self, item: RateLimitItem, key: tuple[str, ...]) -> float:
        """Seconds until a slot may be free: from when the oldest send leaves the window, spread over the
        time the later ones do (at most JITTER_SECONDS ahead)."""
        return self._spread(item, self.limiter.get_window_stats(item, *key).reset_time - time.time())

    @staticmethod
    def _spread(item: RateLimitItem, first_free: float) -> float:
        first_free = max(first_free, 0.01)
        last_free = first_free if item.amount == 1 else max(first_free, min(item.get_expiry(), JITTER_SECONDS))
        return random.uniform(first_free, last_free) + random.uniform(0, SLOT_JITTER_SECONDS)


def storage_uri(app: Flask) -> str:
    """Where the counts live: shared (Redis) when the queue is distributed, this process's memory otherwise."""
    queue_url = app.config.get("QUEUE_URL") or ""
    explicit = app.config.get("TELEGRAM_LIMITS_STORAGE_URL") or app.config.get("REDIS_URL")
    if explicit:
        return explicit
    if queue_url.startswith("redis"):
        return queue_url
    if queue_url:
        raise RuntimeError("QUEUE_URL is amqp://…: set REDIS_URL (or TELEGRAM_LIMITS_STORAGE_URL) so every worker "
                           "shares Telegram's rate limits")
    return rate_limit_storage.URI  # limits' memory storage without its thread per hit (app/rate_limit_storage.py)


def limits_for(app: Flask | None = None) -> TelegramLimits:
    """This app's limits, built once from its config."""
    app = app or current_app._get_current_object()
    limits = app.extensions.get(_KEY)
    if limits is not None:
        return limits
    with _BUILDING:  # one per app: threads starting together must not each count in a window of their own
        if _KEY not in app.extensions:
            app.extensions[_KEY] = TelegramLimits(
                storage_uri(app), per_bot=app.config["TELEGRAM_LIMIT_PER_BOT"],
                per_chat=app.config["TELEGRAM_LIMIT_PER_CHAT"], per_group=app.config["TELEGRAM_LIMIT_PER_GROUP"],
                key_prefix=f"{app.config.get('OUTBOX_QUEUE_NAMESPACE', 'botfleet')}-telegram",
                guard=float(app.config.get("TELEGRAM_LIMIT_GUARD_SECONDS", GUARD_SECONDS)))
    return app.extensions[_KEY]
