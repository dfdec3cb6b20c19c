"""Telegram's send limits, shared by every process that sends for a bot (the `limits` library).

Telegram refuses (429) a bot that sends more than about 30 messages a second, more than one a second
to one chat, or more than 20 a minute to one group. Before a send, `wait_before_send(bot_id, chat_id)`
counts it against those limits and answers 0 (go now, counted) or the seconds to wait (nothing
counted); the caller then reschedules the message (`outbox.Retry`). It sleeps only when asked to (`take`'s
`pause`: a broadcast's send waiting a moment for the bot's next slot).

The counts are moving windows (in no window of one second are there more than 30 sends of a bot; a
chat's and a group's are `limits.MovingWindowRateLimiter`'s) kept in Redis when the queue is distributed (QUEUE_URL set), so
every `flask worker` on every host draws on the same budget, and in this process's memory otherwise
(the in-process pool is then the only sender). The storage is TELEGRAM_LIMITS_STORAGE_URL, else
REDIS_URL, else a redis:// QUEUE_URL.

A broadcast's send (`take`) is counted in the bot's window *in flight* from its token on and stamped when its request's
last byte is written (`sent`), not when the token was taken: Telegram (and the sandbox) count a send when the request
arrives, and between the token and the last byte lie the `sending` commit and the thread's turn for the CPU (tens to
hundreds of ms under load). Stamped at the token, a send whose path was long arrived late in its second while the 30th
after it, taken a window later with a short path, arrived early: 33-34 sends of one bot in 0.7-0.8 s at the sandbox
once the sends went at the window's edge (docs/performance.md, "B1: sends counted from their last byte").
An in-flight send holds its slot (whatever its age) until it is stamped, or for IN_FLIGHT_SECONDS if its worker died.
Once its answer is read, a send whose answer came later than the bot's fastest of late is stamped that much later
(`answered`): a server short of CPU counts a send up to ~150 ms after its last byte, and a window counted from the last
byte then freed the slot before the server's did (10-bot bench: clusters of 8-50 sandbox 429s at a second's edge).
The other sends (`wait_before_send`: a reply, a notice) are stamped when counted, as before.

A bot's window is also counted a guard longer than Telegram's (`TELEGRAM_LIMIT_GUARD_SECONDS`, default 0.02): what is
left between the last byte and Telegram's count (the network, the server's turn to read it) differs from send to send
too, and a broadcast's send waiting in its thread for the bot's next slot (`take`'s `pause`) takes it the moment it
frees. With a guard, delays that differ by less than it never make 31 in a second; it costs at most 30 / (1 + guard)
sends a second (1 bot × 1,500 members, stamped at the token: 78, 38, 7 and 27 sandbox 429s at 0, 0.01, 0.02 and
0.03 s; docs/performance.md, "B1 one bot: a send waits for its slot").
"""
from __future__ import annotations

import bisect
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable

from flask import Flask, current_app
from limits import RateLimitItem, parse, storage, strategies

from app import rate_limit_storage

_KEY = "telegram_limits"
_BUILDING = threading.Lock()
#: A bot's window is counted this much longer than Telegram's (see the module's docstring).
GUARD_SECONDS = 0.02
#: `answered`: a bot's fastest answer over this many of its recent groups of sends is the trip with no wait.
ANSWER_HISTORY = 50
#: `answered`: a send whose answer came at most this much later than the bot's fastest keeps its stamp.
ANSWER_SLACK_SECONDS = 0.002
#: Held sends come back spread over the time the limit's slots free (a moving window of 30 a second
#: frees its slots over the next second, in the order they were taken), at most this far ahead, so they
#: neither all come back in one instant nor come back long after their slot freed.
JITTER_SECONDS = 1.0
#: Spread when only one slot frees (one message a second to a chat) or it frees later than the spread.
SLOT_JITTER_SECONDS = 0.1
#: Reserved slots (`reserve_slot`) come this much faster than the per-bot limit, so a slot a late worker
#: misses does not leave the bot idle; the moving window still admits no more than the limit.
SLOT_OVERBOOK = 1.2
#: Redis: the next free slot of a bot, as Redis's own clock sees it (hosts' clocks may differ); seconds to it.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local slot = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
local count = tonumber(ARGV[2] or '1')
redis.call('SET', KEYS[1], tostring(slot + tonumber(ARGV[1]) * count), 'EX', math.ceil(slot - now) + 60)
return tostring(slot - now)
"""
#: A send counted in flight (`take`) holds its slot this long at most if it is never stamped (its worker died
#: between the token and the last byte); a live one is stamped within milliseconds, or a descheduled thread's seconds.
IN_FLIGHT_SECONDS = 5.0
#: Redis: take up to ARGV[3] sends of a bot's moving window (ARGV[1] sends in ARGV[2] seconds, Redis's clock), named
#: ARGV[5]:1..n, in flight for ARGV[4] seconds (scored that far ahead, so they stay in the window until `_STAMP`
#: scores them; 0: stamped now); {sends taken, seconds until the window's oldest stamped send leaves it when it is
#: full (a window's length when all are in flight), sends in the window}. A sorted set: member → stamp.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local limit, window, count, flying = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.6f', now - window))
local inside = redis.call('ZCARD', KEYS[1])
local taken = math.max(math.min(count, limit - inside), 0)
if taken > 0 then
  local score, entries = string.format('%.6f', now + flying), {}
  for i = 1, taken do entries[2 * i - 1] = score; entries[2 * i] = ARGV[5] .. ':' .. i end
  redis.call('ZADD', KEYS[1], unpack(entries))
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
end
inside = inside + taken
local free_in = 0
if inside >= limit then
  local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
  free_in = window
  if oldest <= now then free_in = math.max(oldest + window - now, 0) end
end
return {taken, tostring(free_in), inside}
"""
#: Redis: stamp the in-flight sends ARGV[1]:1..ARGV[2] of a bot's window with Redis's clock now (their last bytes
#: are written); re-added if they had lapsed.
_STAMP = """
local t = redis.call('TIME')
local score = string.format('%.6f', tonumber(t[1]) + tonumber(t[2]) / 1000000)
local entries = {}
for i = 1, tonumber(ARGV[2]) do entries[2 * i - 1] = score; entries[2 * i] = ARGV[1] .. ':' .. i end
redis.call('ZADD', KEYS[1], unpack(entries))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return score
"""


#: Redis: seconds until ARGV[3] more sends fit a bot's moving window (ARGV[1] sends in ARGV[2] seconds, Redis's clock),
#: taking nothing: 0 when they fit now; ARGV[4] when the sends that must leave first are still in flight (scored
#: ahead: they are stamped within moments).
_FREE_IN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local over = redis.call('ZCOUNT', KEYS[1], string.format('(%.6f', now - window), '+inf') + tonumber(ARGV[3]) - limit
if over <= 0 then return '0' end
local stamp = tonumber(redis.call('ZRANGEBYSCORE', KEYS[1], string.format('(%.6f', now - window), '+inf',
                                  'WITHSCORES', 'LIMIT', over - 1, 1)[2])
if stamp > now then return ARGV[4] end
return tostring(math.max(stamp + window - now, 0))
"""


class Taken(list):
    """`take`'s answer, per send: 0 (go now, counted in the bot's window in flight) or the seconds to wait (nothing
    counted). `TelegramLimits.sent(taken)` stamps the counted ones once their requests' last bytes are written;
    `TelegramLimits.answered(taken, ...)` may stamp some later once their answers are read."""

    def __init__(self, waits: list[float], bot_id: int, ticket: str = "", count: int = 0,
                 slots: list[int] | None = None):
        super().__init__(waits)
        self.bot_id, self.ticket, self.count, self.stamped = bot_id, ticket, count, not count
        #: the sends (indices) whose tokens are ticket:1..count, in that order
        self.slots = slots or []
        #: the stamp `sent` gave them (the storage's clock: Redis's or the memory limiter's) and when (time.monotonic)
        self.stamp: float | None = None
        self.stamped_at: float | None = None


class TelegramLimits:
    """The per-bot, per-chat and per-group limits over one storage."""

    def __init__(self, storage_uri: str, *, per_bot: str, per_chat: str, per_group: str,
                 key_prefix: str = "botfleet-telegram", guard: float = GUARD_SECONDS,
                 clock: Callable[[], float] = time.time):
        """:param clock: the memory storage's clock (tests); Redis's own clock counts there."""
        options = {"key_prefix": key_prefix} if not storage_uri.startswith("memory") else {}
        self.storage = storage.storage_from_string(storage_uri, **options)
        self.limiter = strategies.MovingWindowRateLimiter(self.storage)
        self.per_bot, self.per_chat, self.per_group = parse(per_bot), parse(per_chat), parse(per_group)
        #: The bot's window as we count it: Telegram's plus the guard.
        self.bot_window = self.per_bot.get_expiry() + max(guard, 0.0)
        # memory storage: each bot's stamped send times in its window, oldest first; its sends in flight (ticket →
        # (count, when they lapse))
        self._sent: dict[int, deque] = {}
        self._flying: dict[int, dict[str, tuple[int, float]]] = {}
        self._sent_lock = threading.Lock()
        self._clock = clock
        self._slots: dict[int, float] = {}
        self._slots_lock = threading.Lock()
        #: per bot, the fastest answer (seconds from the last byte) of each of its recent `answered` groups
        self._fastest: dict[int, deque] = {}

    def wait_before_send(self, bot_id: int, chat_id: int | str | None, *, per_chat: bool = True) -> float:
        """Count one send of `bot_id` to `chat_id` and answer 0, or the seconds to wait (nothing counted).

        :param per_chat: False for the reply to the user's own update (Telegram allows a short burst in a
            chat); it still counts against the bot's limit.
        """
        chat_limits = self._chat_limits(chat_id) if per_chat and chat_id is not None else []
        chat_key = ("chat", str(bot_id), str(chat_id))
        for item in chat_limits:
            if not self.limiter.test(item, *chat_key):
                return self._wait(item, chat_key)
        taken, free_in, _ = self._take_bot(bot_id, 1)
        if not taken:
            return self._spread(self.per_bot, free_in)
        for item in chat_limits:  # another sender may have taken the chat's slot since the test above
            if not self.limiter.hit(item, *chat_key):
                return self._wait(item, chat_key)
        return 0.0

    def take(self, bot_id: int, chat_ids: list[int | str], *, pause: float = 0.0) -> Taken:
        """`wait_before_send` for several sends of one bot at once: per send 0 (go now, counted) or seconds to wait
        (nothing counted). The bot's budget is taken in one hit for as many as it has room for (two round trips to
        the storage at most, not one per send); each chat's limits are still counted per chat, before and after.
        The bot's sends taken are counted in flight until `sent(taken)` stamps them: call it once their requests'
        last bytes are written (whether or not they were; until then they hold their slots, IN_FLIGHT_SECONDS at most).

        :param pause: when the bot's window has no room for any of them, this thread may sleep up to this long in
            all for the moment its oldest send leaves the window, and take again then (another sender may take that
            slot first: then it sleeps for the next one). A send told to wait comes back a claim round (or a broker
            sweep) after the slot it waited for freed, and in a moving window every slot reused late lowers the
            bot's rate for good; a send waiting in the thread takes the slot as it frees.
        """
        waits = self._chat_waits(bot_id, chat_ids, hit=False)
        candidates = [i for i, wait in enumerate(waits) if not wait]
        if not candidates:
            return Taken(waits, bot_id)
        ticket = uuid.uuid4().hex
        room, free_in, _ = self._take_bot(bot_id, len(candidates), ticket)
        deadline = time.monotonic() + pause
        while not room and free_in <= deadline - time.monotonic():
            time.sleep(max(free_in, 0.001))
            room, free_in, _ = self._take_bot(bot_id, len(candidates), ticket)
        for i in candidates[room:]:
            waits[i] = self._spread(self.per_bot, free_in)
        # another sender may have taken a chat's slot since the test above
        for i, wait in zip(candidates[:room], self._chat_waits(bot_id, [chat_ids[i] for i in candidates[:room]],
                                                               hit=True)):
            waits[i] = wait
        return Taken(waits, bot_id, ticket, room, candidates[:room])

    def free_in(self, bot_id: int, count: int) -> float:
        """Seconds until `count` more sends of the bot fit its window (0: now), taking nothing: when the sends that
        must leave it first do, or a moment (a limit's step) when some of those are still in flight (not stamped)."""
        limit, window = self.per_bot.amount, self.bot_window
        count, step = min(max(count, 1), limit), window / limit
        if isinstance(self.storage, storage.RedisStorage):
            key = self.storage.prefixed_key(f"bot-sends/{bot_id}")
            return float(self.storage.get_connection().eval(_FREE_IN, 1, key, limit, window, count, step))
        with self._sent_lock:
            now = self._clock()
            stamps = [stamp for stamp in self._sent.get(bot_id, ()) if stamp > now - window]
            flying = sum(n for n, until in self._flying.get(bot_id, {}).values() if until > now)
            over = len(stamps) + flying + count - limit
            if over <= 0:
                return 0.0
            return stamps[over - 1] + window - now if over <= len(stamps) else step

    def sent(self, taken: Taken) -> None:
        """Stamp the bot's sends `take` counted in flight with the time now (their requests' last bytes are written:
        Telegram counts them from about now); once per `take`."""
        if taken.stamped:
            return
        taken.stamped = True
        if isinstance(self.storage, storage.RedisStorage):
            key = self.storage.prefixed_key(f"bot-sends/{taken.bot_id}")
            taken.stamp = float(self.storage.get_connection().eval(_STAMP, 1, key, taken.ticket, taken.count,
                                                                   self._ttl_ms))
        else:
            with self._sent_lock:
                self._flying.get(taken.bot_id, {}).pop(taken.ticket, None)
                taken.stamp = self._clock()
                self._sent.setdefault(taken.bot_id, deque()).extend([taken.stamp] * taken.count)
        taken.stamped_at = time.monotonic()

    def answered(self, taken: Taken, answered_at: dict[int, float]) -> None:
        """Stamp later the sends of `taken` whose answers came late: Telegram (or the sandbox, short of CPU) may count
        a send well after its last byte, and a window counted from the last byte then frees its slot before
        Telegram's does (a cluster of 429s at a second's edge). A send's answer came `latency` seconds after its last
        byte (`answered_at`: send index → time.monotonic() its answer was read); the bot's fastest answer of late
        (ANSWER_HISTORY groups) is what the trip takes when nothing waits, so the send was counted no earlier than
        `latency - fastest` after its last byte: its stamp moves that much later (never earlier; at most a window).
        A bot's first group has nothing to compare with: it moves by its whole latency (the start of a broadcast,
        every bot's first sends at once, is when a server is slowest to count them: 10 sandbox 429s a second on).
        """
        if taken.stamp is None or taken.stamped_at is None or not answered_at:
            return
        latencies = {i: max(at - taken.stamped_at, 0.0) for i, at in answered_at.items()}
        with self._sent_lock:
            fastest = self._fastest.setdefault(taken.bot_id, deque(maxlen=ANSWER_HISTORY))
            floor = min(min(fastest, default=0.0), min(latencies.values())) if fastest else 0.0
            fastest.append(min(latencies.values()))
        later = {}
        for token, i in enumerate(taken.slots, 1):
            shift = min(latencies.get(i, 0.0) - floor, self.bot_window)
            if shift > ANSWER_SLACK_SECONDS:
                later[token] = taken.stamp + shift
        if not later:
            return
        if isinstance(self.storage, storage.RedisStorage):
            key = self.storage.prefixed_key(f"bot-sends/{taken.bot_id}")
            self.storage.get_connection().zadd(key, {f"{taken.ticket}:{token}": score
                                                     for token, score in later.items()}, xx=True, gt=True)
            return
        with self._sent_lock:
            sent = self._sent.get(taken.bot_id)
            for score in later.values():
                if sent is not None and taken.stamp in sent:
                    sent.remove(taken.stamp)
                    bisect.insort(sent, score)

    def _chat_waits(self, bot_id: int, chat_ids: list[int | str | None], *, hit: bool) -> list[float]:
        """`_chat_wait` for several chats: in Redis, when each has only the per-chat limit (private chats), in one
        round trip (a pipeline of the `limits` library's own scripts on its keys) instead of one per chat: a
        broadcast's batch made 10 tests and 10 hits between its token and its last bytes, each a wait for the GIL."""
        if len(chat_ids) < 2 or not isinstance(self.storage, storage.RedisStorage) or any(
                chat_id is None or len(self._chat_limits(chat_id)) != 1 for chat_id in chat_ids):
            return [self._chat_wait(bot_id, chat_id, hit=hit) for chat_id in chat_ids]
        item, store = self.per_chat, self.storage
        amount, expiry, now = item.amount, item.get_expiry(), time.time()
        keys = [store.prefixed_key(item.key_for("chat", str(bot_id), str(chat_id))) for chat_id in chat_ids]
        pipe = store.get_connection().pipeline(transaction=False)
        for key in keys:
            if hit:
                store.lua_acquire_moving_window([key], [now, amount, expiry, 1], client=pipe)
            else:
                store.lua_moving_window([key], [now - expiry, amount], client=pipe)
        answers = pipe.execute()
        fits = [bool(answer) if hit else not answer or int(answer[1]) <= amount - 1 for answer in answers]
        return [0.0 if fit else self._wait(item, ("chat", str(bot_id), str(chat_id)))
                for chat_id, fit in zip(chat_ids, fits)]

    def _chat_wait(self, bot_id: int, chat_id: int | str | None, *, hit: bool) -> float:
        if chat_id is None:
            return 0.0
        chat_key = ("chat", str(bot_id), str(chat_id))
        for item in self._chat_limits(chat_id):
            if not (self.limiter.hit if hit else self.limiter.test)(item, *chat_key):
                return self._wait(item, chat_key)
        return 0.0

    def reserve_slots(self, bot_id: int, count: int) -> list[float]:
        """`reserve_slot` for `count` held-back sends at once (one round trip): the seconds to each slot."""
        if count <= 0:
            return []
        step = self.per_bot.get_expiry() / (self.per_bot.amount * SLOT_OVERBOOK)
        if isinstance(self.storage, storage.RedisStorage):
            key = self.storage.prefixed_key(f"slot/{bot_id}")
            first = float(self.storage.get_connection().eval(_RESERVE, 1, key, step, count))
        else:
            with self._slots_lock:
                now = time.time()
                slot = max(self._slots.get(bot_id, 0.0), now)
                self._slots[bot_id] = slot + step * count
                first = slot - now
        return [first + i * step for i in range(count)]

    def reserve_slot(self, bot_id: int) -> float:
        """Seconds until a send slot of `bot_id` that no other held-back send has taken, reserving it.

        A broadcast holds hundreds of sends per bot. Told only when the window moves, they would all come back
        every second and all but 30 be held again; reserved slots line them up 1/limit apart instead.
        """
        step = self.per_bot.get_expiry() / (self.per_bot.amount * SLOT_OVERBOOK)
        if isinstance(self.storage, storage.RedisStorage):
            key = self.storage.prefixed_key(f"slot/{bot_id}")
            return float(self.storage.get_connection().eval(_RESERVE, 1, key, step))
        with self._slots_lock:
            now = time.time()
            slot = max(self._slots.get(bot_id, 0.0), now)
            self._slots[bot_id] = slot + step
            return slot - now

    def sends_in_window(self, bot_id: int) -> int:
        """How many sends of the bot its current one-window budget holds (for tests and the dashboard)."""
        return self._take_bot(bot_id, 0)[2]

    @property
    def _ttl_ms(self) -> int:
        """How long a bot's Redis window outlives its last change: its longest-lived entry's time in it."""
        return int((self.bot_window + IN_FLIGHT_SECONDS) * 1000) + 1000

    def _take_bot(self, bot_id: int, count: int, ticket: str | None = None) -> tuple[int, float, int]:
        """Take up to `count` sends of the bot's window (atomically, in Redis or this process's memory), in flight
        under `ticket` if given, else stamped now: (sends taken, seconds until its oldest stamped send leaves the
        window if it is full (its length if all are in flight), else 0; sends in the window)."""
        limit, window = self.per_bot.amount, self.bot_window
        flying = IN_FLIGHT_SECONDS if ticket else 0.0
        if isinstance(self.storage, storage.RedisStorage):
            key = self.storage.prefixed_key(f"bot-sends/{bot_id}")
            taken, free_in, inside = self.storage.get_connection().eval(
                _TAKE, 1, key, limit, window, count, flying, ticket or uuid.uuid4().hex, self._ttl_ms)
            return int(taken), float(free_in), int(inside)
        with self._sent_lock:
            now = self._clock()
            sent, in_flight = self._sent.setdefault(bot_id, deque()), self._flying.setdefault(bot_id, {})
            while sent and sent[0] <= now - window:
                sent.popleft()
            for lapsed in [t for t, (_, until) in in_flight.items() if until <= now]:
                del in_flight[lapsed]
            inside = len(sent) + sum(n for n, _ in in_flight.values())
            taken = max(min(count, limit - inside), 0)
            if taken and ticket:
                in_flight[ticket] = (taken, now + flying + window)
            elif taken:
                sent.extend([now] * taken)
            inside += taken
            free_in = (sent[0] + window - now if sent else window) if inside >= limit else 0.0
            return taken, free_in, inside

    def reset(self) -> None:
        self.storage.reset()
        self._slots.clear()
        self._sent.clear()
        self._flying.clear()
        self._fastest.clear()

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
