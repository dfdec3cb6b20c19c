"""Telegram's send limits (app/worker/ratelimit.py): per bot, per chat, per group; in memory and in Redis.

The Redis tests use DB 12 (TEST_REDIS_URL) under a unique key prefix; they skip without Redis and fail
in CI (CI=true).
"""
from __future__ import annotations

import os

import pytest

from app.worker import ratelimit
from app.worker.ratelimit import TelegramLimits, storage_uri
from tests.distributed import most_in_window, redis_namespace

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


class FakeClock:
    """The bot window's clock in reservation tests: time moves only when the test (or a pause) moves it."""

    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def on_clock(where: str, request, clock: FakeClock, **figures) -> TelegramLimits:
    """Limits in memory or in Redis (a unique prefix), on `clock`, with no guard unless given."""
    options = {**TELEGRAM, "guard": 0.0, "clock": clock, "sleep": clock.sleep, **figures}
    if where == "redis":
        return TelegramLimits(REDIS_URL, key_prefix=request.getfixturevalue("redis_prefix"), **options)
    return TelegramLimits("memory://", **options)


@pytest.mark.parametrize("where", ["memory", "redis"])
def test_a_held_send_goes_at_its_reserved_slot_without_taking_again_and_only_once(where, request):
    clock = FakeClock()
    limits = on_clock(where, request, clock)
    start = clock.now
    assert limits.take(3, [None] * 30, [f"k{n}" for n in range(30)]) == [0.0] * 30  # a burst: the window's 30
    held = limits.take(3, [None, None], ["k30", "k31"])
    # the 31st's slot is a window after the 1st; the 32nd's a 30th of a window later; each comes back up to
    # PAUSE_SECONDS early, so its worker is ready at the slot
    assert held == pytest.approx([1 - ratelimit.PAUSE_SECONDS, 1 + 1 / 30 - ratelimit.PAUSE_SECONDS], abs=1e-4)
    assert limits.take(3, [None], ["fresh"])[0] > held[1]  # first come, first served: after the reserved ones
    clock.now = start + held[0]
    assert limits.take(3, [None], ["k30"]) == [0.0]  # back early: paused to its slot, then counted there
    assert clock.now == pytest.approx(start + 1, abs=1e-4)
    assert limits.sends_in_window(3) == 1  # the burst has left the window; k30 is in it once
    again = limits.take(3, [None], ["k30"])[0]
    assert again > 0  # used once: the same key again is a new send, behind every reserved slot
    assert limits.sends_in_window(3) == 1


@pytest.mark.parametrize("where", ["memory", "redis"])
def test_an_expired_or_released_reservation_frees_its_slot(where, request):
    clock = FakeClock()
    limits = on_clock(where, request, clock, per_bot="2/second", grace=0.5)
    start = clock.now
    assert limits.take(4, [None] * 2, ["a", "b"]) == [0.0, 0.0]
    waits = limits.take(4, [None] * 2, ["c", "d"])  # slots at 1.0 and 1.5
    assert [round(w + ratelimit.PAUSE_SECONDS, 4) for w in waits] == [1.0, 1.5]
    clock.now = start + 1.6  # c's slot passed 0.6 s ago, beyond the grace; d's is within it
    assert limits.take(4, [None], ["e"]) == [0.0]  # c's lapsed slot no longer counts: e goes now, not at 2.0
    assert limits.take(4, [None], ["c"])[0] + ratelimit.PAUSE_SECONDS == pytest.approx(0.9, abs=1e-4)  # c comes
    # back: no reservation left, it takes a new slot, a window after d's
    assert limits.take(4, [None], ["d"]) == [0.0]  # d's reservation holds: it goes, without a new slot
    assert limits.take(4, [None], ["d"])[0] > 0  # once
    # released: all of the bot's reservations give their slots up at once (a paused broadcast's)
    clock.now = start + 10
    assert limits.take(4, [None] * 2, ["f", "g"]) == [0.0, 0.0]
    assert limits.take(4, [None] * 3, ["h", "i", "j"])[2] + ratelimit.PAUSE_SECONDS == pytest.approx(2.0, abs=1e-4)
    limits.release(4)
    assert limits.take(4, [None], ["k"])[0] + ratelimit.PAUSE_SECONDS == pytest.approx(1.0, abs=1e-4)
    assert limits.take(4, [None], ["h"])[0] + ratelimit.PAUSE_SECONDS == pytest.approx(1.5, abs=1e-4)


@pytest.mark.parametrize("where", ["memory", "redis"])
def test_reserved_sends_fill_every_slot_and_never_exceed_the_limit(where, request):
    """Held sends come back when told, some late, with replies (no key) in between: no window of a second ever
    holds more than 30 sends, a lapsed or late reservation costs no slot, and the queue is done at the pace of
    30 a second (slots were not left empty while sends waited). Two limiters on one Redis share it all (a send
    reserved by one host goes from the other)."""
    clock = FakeClock()
    hosts = [on_clock(where, request, clock)]
    if where == "redis":
        hosts.append(on_clock(where, request, clock))
    start, step = clock.now, 0.005
    due = {f"s{n}": start for n in range(300)}  # key -> when its worker looks again
    sent: list[float] = []
    n = 0
    while due and clock.now < start + 20:
        for key in sorted(k for k, when in due.items() if when <= clock.now):
            n += 1
            limits = hosts[n % len(hosts)]
            late = 0.05 if n % 7 == 0 else 0.0  # some workers come back late
            wait = limits.take(9, [None], [key])[0]
            if wait:
                due[key] = clock.now + wait + late
            else:
                sent.append(clock.now)
                del due[key]
        if n % 11 == 0:  # a reply without a key: the window only
            if hosts[0].take(9, [None])[0] == 0.0:
                sent.append(clock.now)
        clock.now += step
    assert not due
    assert most_in_window([t - start for t in sent], 1.0 - 1e-5) <= 30
    # 300 sends at 30 a second: the first 30 at once, the rest from a second later; a little for the replies
    # and the late ones, far less than the tenth a claim round per slot cost
    assert max(sent) - start < 300 / 30 + 0.5


