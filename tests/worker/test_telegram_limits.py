"""Telegram's send limits (app/worker/ratelimit.py): per bot, per chat, per group; in memory and in Redis.

The Redis tests use DB 12 (TEST_REDIS_URL) under a unique key prefix; they skip without Redis and fail
in CI (CI=true).
"""
from __future__ import annotations

import os

import pytest

from app.worker.ratelimit import TelegramLimits, storage_uri
from tests.distributed import redis_namespace

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/12")
TELEGRAM = {"per_bot": "30/second", "per_chat": "1/second", "per_group": "20/minute"}


def in_memory(**figures) -> TelegramLimits:
    return TelegramLimits("memory://", **{**TELEGRAM, **figures})


@pytest.fixture
def redis_prefix():
    yield from redis_namespace(REDIS_URL, "botfleet-test-limits-")


def test_a_bot_sends_30_messages_in_a_second_and_the_31st_waits():
    limits = in_memory()
    assert [limits.wait_before_send(1, 1000 + n) for n in range(30)] == [0.0] * 30
    wait = limits.wait_before_send(1, 2000)
    assert 0 < wait <= 2.1  # when the oldest send leaves the window, plus up to a second of spread
    assert limits.wait_before_send(2, 2000) == 0.0  # another bot has its own budget
    assert limits.sends_in_window(1) == 30  # the refused send was not counted


def test_one_message_a_second_per_chat_and_the_held_one_is_not_counted_against_the_bot():
    limits = in_memory()
    assert limits.wait_before_send(1, 555) == 0.0
    assert limits.wait_before_send(1, 555) > 0
    assert limits.sends_in_window(1) == 1
    assert limits.wait_before_send(1, 556) == 0.0  # another chat goes at once
    assert limits.wait_before_send(2, 555) == 0.0  # the same user, through another bot


def test_a_group_takes_20_messages_a_minute():
    limits = in_memory(per_chat="100/second")  # so the group's minute is what holds
    assert all(limits.wait_before_send(1, -100123) == 0.0 for _ in range(20))
    wait = limits.wait_before_send(1, -100123)
    assert 55 < wait <= 61
    assert limits.wait_before_send(1, 700) == 0.0  # a private chat is not a group


def test_the_reply_to_a_users_own_update_skips_the_chat_limit_but_counts_for_the_bot():
    limits = in_memory()
    assert limits.wait_before_send(1, 555) == 0.0
    assert limits.wait_before_send(1, 555, per_chat=False) == 0.0
    assert limits.sends_in_window(1) == 2


def test_two_processes_share_one_budget_in_redis(redis_prefix):
    """Two limiters on one Redis (as two `flask worker`s on two hosts) draw on the same 30 a second."""
    first, second = (TelegramLimits(REDIS_URL, key_prefix=redis_prefix, **TELEGRAM) for _ in range(2))
    sent = [limiter.wait_before_send(7, 9000 + 2 * n + i) for n in range(15) for i, limiter in enumerate((first, second))]
    assert sent == [0.0] * 30
    assert first.wait_before_send(7, 9999) > 0 and second.wait_before_send(7, 9999) > 0
    assert second.sends_in_window(7) == 30
    assert first.wait_before_send(8, 9999) == 0.0


def test_the_chat_limit_is_shared_in_redis_too(redis_prefix):
    first, second = (TelegramLimits(REDIS_URL, key_prefix=redis_prefix, **TELEGRAM) for _ in range(2))
    assert first.wait_before_send(7, 4242) == 0.0
    assert second.wait_before_send(7, 4242) > 0


@pytest.mark.parametrize(("config", "expected"), [
    ({}, "swept-memory://"),
    ({"QUEUE_URL": "redis://q:6379/3"}, "redis://q:6379/3"),
    ({"QUEUE_URL": "redis://q:6379/3", "REDIS_URL": "redis://r:6379/4"}, "redis://r:6379/4"),
    ({"QUEUE_URL": "amqp://guest:guest@h:5672", "REDIS_URL": "redis://r:6379/4"}, "redis://r:6379/4"),
    ({"TELEGRAM_LIMITS_STORAGE_URL": "redis://l:6379/5", "REDIS_URL": "redis://r:6379/4"}, "redis://l:6379/5"),
])
def test_the_counts_are_shared_when_the_queue_is_distributed(config, expected):
    class App:
        pass
    app = App()
    app.config = config
    assert storage_uri(app) == expected


def test_a_rabbitmq_queue_without_a_shared_store_is_refused():
    class App:
        config = {"QUEUE_URL": "amqp://guest:guest@h:5672"}
    with pytest.raises(RuntimeError, match="REDIS_URL"):
        storage_uri(App())


@pytest.mark.parametrize("where", ["memory", "redis"])
def test_take_counts_a_bots_sends_in_one_hit_as_far_as_its_budget_goes(where, request):
    """A batch of a broadcast's sends: the bot's budget is taken at once for as many as fit; the rest wait,
    uncounted; a chat that had a message this second waits whatever the bot's budget."""
    if where == "redis":
        limits = TelegramLimits(REDIS_URL, key_prefix=request.getfixturevalue("redis_prefix"), **TELEGRAM)
    else:
        limits = in_memory()
    assert limits.wait_before_send(5, 100) == 0.0
    waits = limits.take(5, [100] + list(range(101, 125)))
    assert waits[0] > 0 and waits[1:] == [0.0] * 24
    assert limits.sends_in_window(5) == 25
    waits = limits.take(5, list(range(200, 210)))
    assert waits[:5] == [0.0] * 5 and all(w > 0 for w in waits[5:])
    assert limits.sends_in_window(5) == 30


@pytest.mark.parametrize("where", ["memory", "redis"])
def test_take_counts_each_chat_it_took_and_only_those(where, request):
    """The chats of a batch are tested and counted together (in Redis one round trip each way): a chat taken has had
    its message this second, one the bot's budget left out has not; a group's chat still counts its minute."""
    if where == "redis":
        limits = TelegramLimits(REDIS_URL, key_prefix=request.getfixturevalue("redis_prefix"),
                                **{**TELEGRAM, "per_bot": "5/second"})
    else:
        limits = in_memory(per_bot="5/second")
    assert limits.wait_before_send(5, 300) == 0.0
    waits = limits.take(5, [300, 301, 302, 303, 304, 305, 306])
    assert waits[0] > 0 and waits[1:5] == [0.0] * 4 and all(w > 0 for w in waits[5:])
    assert [limits.wait_before_send(6, chat) for chat in (301, 305)] == [0.0, 0.0]  # another bot: its own counts
    assert all(limits._chat_waits(5, [301, 302, 303, 304], hit=False))  # taken: their second is used
    assert limits._chat_waits(5, [305, 306], hit=False) == [0.0, 0.0]  # left out: not counted
    assert limits.take(7, [-100500, 400]) == [0.0, 0.0]  # a group among them: counted one by one
    assert limits.wait_before_send(7, -100500) > 0


@pytest.mark.parametrize("where", ["memory", "redis"])
def test_reserved_slots_of_a_batch_line_up_one_step_apart(where, request):
    if where == "redis":
        limits = TelegramLimits(REDIS_URL, key_prefix=request.getfixturevalue("redis_prefix"), **TELEGRAM)
    else:
        limits = in_memory()
    step = 1 / (30 * 1.2)
    slots = limits.reserve_slots(9, 4)
    assert [round(b - a, 6) for a, b in zip(slots, slots[1:])] == [round(step, 6)] * 3
    assert limits.reserve_slot(9) >= slots[-1] + step - 0.05  # the next one comes after the batch's
    assert limits.reserve_slots(9, 0) == []


@pytest.mark.parametrize("where", ["memory", "redis"])
def test_a_send_allowed_to_pause_waits_in_the_thread_for_the_bots_next_slot(where, request):
    """A broadcast's send finding the bot's window full may sleep until its oldest send leaves it and take that
    slot (counted then, never before); one whose pause ends before the slot frees is told to wait, uncounted. (The
    sends taken are stamped when their last bytes are written: `sent`.)"""
    figures = {**TELEGRAM, "per_bot": "3/second"}
    if where == "redis":
        limits = TelegramLimits(REDIS_URL, key_prefix=request.getfixturevalue("redis_prefix"), **figures)
    else:
        limits = TelegramLimits("memory://", **figures)
    taken = limits.take(7, [1, 2, 3])
    assert taken == [0.0] * 3
    limits.sent(taken)  # their last bytes
    assert limits.take(7, [4], pause=0.001)[0] > 0  # the slot frees in about a second: not worth the pause
    assert limits.sends_in_window(7) == 3
    assert limits.take(7, [4, 5], pause=30) == [0.0, 0.0]  # the three left the window together
    assert limits.sends_in_window(7) == 2
    assert limits.take(7, [6, 7])[1] > 0 and limits.sends_in_window(7) == 3  # never more than the limit


class Clock:
    """A memory limiter's clock that moves only when the test moves it."""

    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_broadcast_send_is_counted_from_its_last_byte_not_its_token():
    """Telegram counts a send when it arrives. Two sends whose `sending` commit took 0.7 s after their tokens hold
    their slots until a window after their last bytes: counted from the tokens, a third could go 0.3 s after they
    arrived (three in one of Telegram's seconds)."""
    clock = Clock(100.0)
    limits = TelegramLimits("memory://", **{**TELEGRAM, "per_bot": "2/second"}, guard=0, clock=clock)
    taken = limits.take(7, [1, 2])
    assert taken == [0.0, 0.0] and limits.sends_in_window(7) == 2
    clock.now = 100.7  # the commit, a descheduled thread
    limits.sent(taken)  # the last bytes are written
    clock.now = 101.5  # a window after the tokens
    assert limits.take(7, [3])[0] > 0 and limits.sends_in_window(7) == 2
    clock.now = 101.71  # a window after the last bytes
    assert limits.take(7, [3]) == [0.0]


def test_a_send_in_flight_holds_its_slot_until_stamped_or_lapsed():
    """However long its thread takes to write the last byte; a worker that died never stamps it: its slot comes
    back IN_FLIGHT_SECONDS after the window would have freed it."""
    from app.worker.ratelimit import IN_FLIGHT_SECONDS
    clock = Clock(100.0)
    limits = TelegramLimits("memory://", **{**TELEGRAM, "per_bot": "2/second"}, guard=0, clock=clock)
    assert limits.take(7, [1, 2]) == [0.0, 0.0]
    clock.now = 103.0
    assert limits.take(7, [3])[0] > 0
    clock.now = 100.0 + IN_FLIGHT_SECONDS + 1.0
    assert limits.take(7, [3]) == [0.0]
    assert limits.wait_before_send(7, 4) == 0.0 and limits.wait_before_send(7, 5) > 0  # other sends: stamped now


def test_in_redis_a_send_is_in_flight_until_stamped_with_redis_clock(redis_prefix):
    """The same on Redis (two hosts): taken, a send scores ahead of Redis's clock (in the window whatever its age);
    `sent` scores it at Redis's time of its last byte."""
    limits = TelegramLimits(REDIS_URL, key_prefix=redis_prefix, **{**TELEGRAM, "per_bot": "2/second"})
    redis = limits.storage.get_connection()
    key = limits.storage.prefixed_key("bot-sends/7")
    taken = limits.take(7, [1, 2])
    assert taken == [0.0, 0.0] and limits.take(7, [3])[0] > 0
    seconds, micros = redis.time()
    before = seconds + micros / 1e6
    assert all(score > before + 1 for _, score in redis.zrange(key, 0, -1, withscores=True))
    limits.sent(taken)
    limits.sent(taken)  # once: a second call stamps nothing again
    scores = [score for _, score in redis.zrange(key, 0, -1, withscores=True)]
    assert len(scores) == 2 and all(before <= score < before + 1 for score in scores)
    assert limits.sends_in_window(7) == 2


def test_free_in_tells_when_more_sends_fit_the_bots_window_taking_nothing():
    """The pool's lanes ask it before handing a bot's batch to a thread: 0 when it fits now; else when the sends that
    must leave the window first do (counted from their last bytes); a moment when those are still in flight."""
    clock = Clock(100.0)
    limits = TelegramLimits("memory://", **{**TELEGRAM, "per_bot": "4/second"}, guard=0, clock=clock)
    assert limits.free_in(7, 3) == 0.0
    first = limits.take(7, [1, 2])
    assert limits.free_in(7, 3) == pytest.approx(0.25)  # the two in flight must leave first: not stamped yet
    limits.sent(first)
    clock.now = 100.4
    limits.sent(limits.take(7, [3, 4]))
    assert limits.sends_in_window(7) == 4
    assert limits.free_in(7, 1) == pytest.approx(0.6)  # the oldest stamped (100.0) leaves at 101.0
    assert limits.free_in(7, 3) == pytest.approx(1.0)  # the third oldest (100.4) at 101.4
    assert limits.free_in(7, 9) == pytest.approx(1.0)  # never more than the limit at once
    assert limits.sends_in_window(7) == 4  # nothing taken
    clock.now = 101.0
    assert limits.free_in(7, 2) == 0.0


def test_free_in_on_redis_counts_by_redis_clock(redis_prefix):
    limits = TelegramLimits(REDIS_URL, key_prefix=redis_prefix, **{**TELEGRAM, "per_bot": "2/second"}, guard=0)
    assert limits.free_in(7, 2) == 0.0
    taken = limits.take(7, [1, 2])
    assert limits.free_in(7, 1) == pytest.approx(0.5)  # in flight: ask again in a moment
    limits.sent(taken)
    assert 0.9 < limits.free_in(7, 1) <= 1.0
    assert limits.sends_in_window(7) == 2


def test_a_send_answered_late_is_counted_from_when_it_was_likely_counted():
    """The sandbox (or Telegram), short of CPU, may count a send well after its last byte: its answer comes late.
    Such a send holds its slot from its last byte plus how much later its answer came than the bot's fastest (the
    trip with no wait): counted from the last byte alone, the slot freed before the server's did (429s at a second's
    edge). A trip slow for every send (a far Telegram) moves nothing, and a stamp never moves earlier."""
    clock = Clock(100.0)
    limits = TelegramLimits("memory://", **{**TELEGRAM, "per_bot": "2/second"}, guard=0, clock=clock)
    taken = limits.take(77, [7701, 7702])
    limits.sent(taken)
    limits.answered(taken, {0: taken.stamped_at + 0.1, 1: taken.stamped_at + 0.1})  # the bot's first: all of it
    assert limits.free_in(77, 1) == pytest.approx(1.1)
    clock.now = 101.101
    taken = limits.take(77, [7711, 7712])  # (other chats: a chat's own limit runs on the real clock)
    assert taken == [0.0, 0.0]
    limits.sent(taken)
    limits.answered(taken, {0: taken.stamped_at + 0.1, 1: taken.stamped_at + 0.1})  # slow, as before: no move
    assert limits.free_in(77, 1) == pytest.approx(1.0)
    clock.now = 102.102
    taken = limits.take(77, [7703, 7704])
    assert taken == [0.0, 0.0]
    limits.sent(taken)
    limits.answered(taken, {0: taken.stamped_at + 0.002, 1: taken.stamped_at + 0.062})  # the second 0.06 s late
    clock.now = 103.103
    assert limits.free_in(77, 1) == 0.0 and limits.free_in(77, 2) == pytest.approx(0.059)  # 102.102 + 0.06 + 1
    waits = limits.take(77, [7705, 7706])
    assert waits[0] == 0.0 and waits[1] > 0
    limits.sent(waits)
    limits.answered(waits, {0: waits.stamped_at - 1.0})  # an answer can't come before the last byte: no move
    clock.now = 103.165
    assert limits.take(77, [7706]) == [0.0]


def test_in_redis_a_send_answered_late_moves_its_stamp_later(redis_prefix):
    limits = TelegramLimits(REDIS_URL, key_prefix=redis_prefix, **{**TELEGRAM, "per_bot": "3/second"})
    redis = limits.storage.get_connection()
    key = limits.storage.prefixed_key("bot-sends/7")
    first = limits.take(8, [1])
    limits.sent(first)
    limits.answered(first, {0: first.stamped_at + 0.001})  # bot 8's first: moves by its whole latency
    assert limits.free_in(8, 30) > 1.0
    limits._fastest[7] = limits._fastest[8]  # bot 7's fastest so far: 0.001 s
    taken = limits.take(7, [1, 2, 3])
    limits.sent(taken)
    scores = dict(redis.zrange(key, 0, -1, withscores=True))
    limits.answered(taken, {0: taken.stamped_at + 0.001, 2: taken.stamped_at + 0.051})  # 1: no answer (not sent)
    moved = {member.decode(): score - scores[member] for member, score in redis.zrange(key, 0, -1, withscores=True)}
    assert moved[f"{taken.ticket}:1"] == 0.0 and moved[f"{taken.ticket}:2"] == 0.0
    assert moved[f"{taken.ticket}:3"] == pytest.approx(0.05, abs=1e-5)
    assert limits.sends_in_window(7) == 3
