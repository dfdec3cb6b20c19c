"""The in-process pool's lanes (app/worker/lanes.py): a lane's rows go to a thread only when its `ready` says they
may go (within LEAD_SECONDS), one batch per lane at a time, lanes served in turn. A test clock; no threads."""
from __future__ import annotations

import pytest

from app.services import outbox
from app.worker import lanes
from app.worker.lanes import LEAD_SECONDS, MAX_WAIT_SECONDS, Lanes

KIND = "test.laned"


class Clock:
    def __init__(self, now: float = 100.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def windows():
    """A lane's `ready`: the bot's window frees at the time set here (absent: now)."""
    free_at: dict[object, float] = {}
    clock = Clock()
    asked: list[tuple[object, int]] = []

    def ready(kind: str, value: object, count: int) -> float:
        asked.append((value, count))
        return max(free_at.get(value, clock.now) - clock.now, 0.0)

    outbox.batch_handler(KIND, lane=outbox.Lane("bot_id", lambda value, count: 0.0))(lambda rows: {})
    yield Lanes(batch=3, ready=ready, clock=clock), clock, free_at, asked
    outbox.batch_handler(KIND)(lambda rows: {})


def add(pool_lanes: Lanes, bot_id, *ids: int) -> None:
    for message_id in ids:
        pool_lanes.add(KIND, {"bot_id": bot_id}, message_id)


def test_a_lane_whose_window_is_full_waits_while_the_others_go(windows):
    """Bot 1's window frees in 0.8 s: no thread takes its rows now (none would wait for it while bot 2's could
    go); they go LEAD_SECONDS before it frees, a batch at a time."""
    pool_lanes, clock, free_at, asked = windows
    add(pool_lanes, 1, 10, 11, 12, 13)
    add(pool_lanes, 2, 20, 21)
    free_at[1] = clock.now + 0.8
    assert pool_lanes.take(8) == [((KIND, 2), [20, 21])]
    assert asked == [(1, 3), (2, 2)]  # a batch's worth asked for
    assert pool_lanes.next_in() == pytest.approx(0.8 - LEAD_SECONDS)
    clock.now += 0.8 - LEAD_SECONDS - 0.01
    assert pool_lanes.take(8) == []  # not asked again before its time
    assert len(asked) == 2
    clock.now += 0.01
    assert pool_lanes.take(8) == [((KIND, 1), [10, 11, 12])]


def test_one_batch_per_lane_at_a_time_and_lanes_in_turn(windows):
    """A lane's next batch is asked for once its batch is done (its sends are counted by then); with fewer threads
    than lanes, the lane served last waits its turn behind the others."""
    pool_lanes, clock, free_at, asked = windows
    add(pool_lanes, 1, 10, 11, 12, 13, 14)
    add(pool_lanes, 2, 20)
    add(pool_lanes, 3, 30)
    assert pool_lanes.take(2) == [((KIND, 1), [10, 11, 12]), ((KIND, 2), [20])]
    assert pool_lanes.take(8) == [((KIND, 3), [30])]  # lane 1 is busy
    pool_lanes.done((KIND, 1))
    assert pool_lanes.take(8) == [((KIND, 1), [13, 14])]
    assert len(pool_lanes) == 0 and pool_lanes.next_in() is None


def test_rows_kept_too_long_go_whatever_the_lane_says(windows):
    """A claimed row never waits in memory near the end of its lease: after MAX_WAIT_SECONDS it goes to a thread
    (the handler holds back, in the database, what may not go)."""
    pool_lanes, clock, free_at, _ = windows
    add(pool_lanes, 1, 10)
    free_at[1] = clock.now + 3600
    assert pool_lanes.take(8) == []
    clock.now += MAX_WAIT_SECONDS + 0.1
    assert pool_lanes.take(8) == [((KIND, 1), [10])]


def test_a_failing_ready_lets_the_rows_go_and_drain_hands_back_every_row(windows):
    pool_lanes, clock, free_at, _ = windows

    def broken(kind, value, count):
        raise ConnectionError("the limits' Redis is down")
    failing = Lanes(batch=2, ready=broken, clock=clock)
    add(failing, 1, 10, 11, 12)
    assert failing.take(1) == [((KIND, 1), [10, 11])]  # the handler decides (it holds back what may not go)

    add(pool_lanes, 1, 10, 11, 12, 13)
    add(pool_lanes, 2, 20)
    free_at[1] = clock.now + 1
    assert sorted(pool_lanes.drain()) == [((KIND, 1), [10, 11, 12]), ((KIND, 1), [13]), ((KIND, 2), [20])]
    assert len(pool_lanes) == 0


def test_the_registered_lane_answers_for_its_kind():
    outbox.batch_handler(KIND, lane=outbox.Lane("bot_id", lambda value, count: value * 10.0 + count))(lambda r: {})
    try:
        assert lanes.lane_ready(KIND, 2, 3) == 23.0
        assert lanes.lane_ready("test.unlaned", 2, 3) == 0.0
    finally:
        outbox.batch_handler(KIND)(lambda rows: {})
    assert outbox.lane_for(KIND) is None
