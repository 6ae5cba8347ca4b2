"""The guarded event-time clock: bounded lateness, held future jumps, wall-clock skew."""

from __future__ import annotations

import numpy as np
import pytest

from workers.event_clock import HELD, LATE, OK, REJECTED, EventClock, EventTimePolicy

T0 = 1_360_000_000.0  # 2013
WALL = 1_800_000_000.0  # the wall clock of these tests (2027)
DAY = 86400.0
TWO_YEARS = 2 * 365 * DAY


def clock(**policy) -> EventClock:
    return EventClock(EventTimePolicy(**policy), wall_clock=lambda: WALL)


def test_in_bounds_events_move_the_watermark_up_only():
    c = clock()
    a = c.admit(np.array([T0, T0 + 50, T0 + 20]))
    assert a.verdict.tolist() == [OK, OK, OK] and c.watermark == T0 + 50
    # Out of order within the allowed lateness is fine and does not move it back.
    assert c.admit(np.array([T0 - 3 * DAY])).verdict.tolist() == [OK]
    assert c.watermark == T0 + 50


def test_a_wrong_clock_minority_is_held_then_rejected_and_never_moves_the_clock():
    c = clock(hold_arrivals=50)
    c.admit(np.array([T0]))
    rejected: list[int] = []
    t = T0
    for k in range(40):  # 1 bad event among every 5, two years ahead (the measured attack)
        ts = [t + 10, t + 20, T0 + TWO_YEARS + k, t + 30, t + 40]
        a = c.admit(np.array(ts), tokens=list(range(5 * k, 5 * k + 5)))
        assert a.verdict.tolist() == [OK, OK, HELD, OK, OK]
        assert not a.released
        rejected += [tok for tok, _ in a.expired]
        t += 40
    assert c.watermark == t  # the stream's own time, not 2015
    assert rejected and all(tok % 5 == 2 for tok in rejected)
    assert len(rejected) + len(c.held) == 40
    reason = c.admit(np.array([t] * 300)).expired[0][1]
    assert "730 days ahead of the stream's watermark" in reason and "did not confirm" in reason
    assert not c.held and c.counts["rejected"] == 40


def test_a_stream_resuming_after_a_pause_is_confirmed_and_released_in_time_order():
    c = clock(confirm_min=5)
    c.admit(np.array([T0]))
    later = T0 + 3 * DAY  # beyond the 12 h future bound
    a = c.admit(np.array([later + 30, later, later + 10]), tokens=[10, 11, 12])
    assert a.verdict.tolist() == [HELD, HELD, HELD] and not a.released
    b = c.admit(np.array([later + 40, later + 50]), tokens=[13, 14])
    # The fifth arrival confirms the jump: all of them are learned now, earliest first.
    assert b.released == [11, 12, 10, 13, 14] and b.verdict.tolist() == [HELD, HELD]
    assert c.watermark == later + 50 and not c.held and not b.expired
    # From here on the resumed stream flows without holding.
    assert c.admit(np.array([later + 60])).verdict.tolist() == [OK]


def test_too_late_and_ahead_of_the_wall_clock():
    c = clock()
    c.admit(np.array([T0]))
    a = c.admit(np.array([T0 - 8 * DAY, WALL + 3600, np.nan, T0 + 1]))
    assert a.verdict.tolist() == [LATE, REJECTED, REJECTED, OK]
    assert "ahead of the wall clock" in a.reasons[1] and c.watermark == T0 + 1


def test_capacity_rejects_the_oldest_held_first():
    c = clock(hold_capacity=3, hold_arrivals=10_000)
    c.admit(np.array([T0]))
    far = T0 + TWO_YEARS
    a = c.admit(
        np.array([far, T0 + 1, far + 1, T0 + 2, far + 2, T0 + 3, far + 3]), tokens=list(range(7))
    )
    assert [tok for tok, _ in a.expired] == [0] and sorted(c.held) == [2, 4, 6]


def test_state_round_trips_and_todays_policy_wins():
    c = clock(hold_arrivals=10)
    c.admit(np.array([T0, T0 + TWO_YEARS]), tokens=[1, 2])
    twin = EventClock.from_state(c.state(), EventTimePolicy(hold_arrivals=3), lambda: WALL)
    assert twin.watermark == c.watermark and twin.held == c.held
    assert twin.policy.hold_arrivals == 3
    nxt = np.array([T0 + 1, T0 + 2, T0 + 3])
    assert [t for t, _ in twin.admit(nxt).expired] == [2]
    assert c.admit(nxt).expired == []


@pytest.mark.parametrize(
    "bad",
    [{"allowed_lateness_s": 0}, {"max_future_skew_s": float("inf")}, {"confirm_min": 0}],
)
def test_policy_values_are_checked(bad):
    with pytest.raises(ValueError):
        EventTimePolicy(**bad)


def test_a_held_event_an_in_bounds_one_followed_is_rejected_after_its_wall_time():
    now = [WALL]
    c = EventClock(EventTimePolicy(hold_wall_s=60), wall_clock=lambda: now[0])
    c.admit(np.array([T0]))
    a = c.admit(np.array([T0 + TWO_YEARS, T0 + 5]), tokens=[5, 6])
    assert a.verdict.tolist() == [HELD, OK]  # the old era went on after it
    now[0] += 59
    assert c.settle().expired == []
    twin = EventClock.from_state(c.state(), c.policy, lambda: now[0])  # a restart keeps the wait
    now[0] += 2
    a, b = c.settle(), twin.settle()
    assert [t for t, _ in a.expired] == [5] and [t for t, _ in b.expired] == [5]
    assert not a.released and c.watermark == T0 + 5
    assert not c.held and not c.held_since


def test_a_stream_that_falls_quiet_after_a_jump_has_resumed_and_is_released():
    """A slow stream's first posts after a pause: fewer than five, then silence.
    Nothing in bounds came after them, so after the wall-time wait they are learned."""
    now = [WALL]
    c = EventClock(EventTimePolicy(hold_wall_s=60), wall_clock=lambda: now[0])
    c.admit(np.array([T0, T0 + 5]))
    later = T0 + 3 * DAY
    assert (
        c.admit(np.array([later, later + 9, later + TWO_YEARS]), tokens=[1, 2, 3]).verdict.tolist()
        == [HELD] * 3
    )
    twin = EventClock.from_state(c.state(), c.policy, lambda: now[0])
    now[0] += 61
    for clk in (c, twin):  # a restart in between changes nothing
        a = clk.settle()
        assert a.released == [1, 2] and clk.watermark == later + 9
        # Far ahead even of the resumed posts: still a wrong clock.
        assert [t for t, _ in a.expired] == [3] and not clk.held
        assert clk.admit(np.array([later + 60])).verdict.tolist() == [OK]


def test_a_quiet_streak_is_released_as_one_once_quiet_since_its_newest_post():
    now = [WALL]
    c = EventClock(EventTimePolicy(hold_wall_s=60), wall_clock=lambda: now[0])
    c.admit(np.array([T0]))
    later = T0 + 3 * DAY
    c.admit(np.array([later]), tokens=[1])
    now[0] += 40
    c.admit(np.array([later + 50]), tokens=[2])  # the stream still talks: not quiet yet
    now[0] += 21  # the first waited 61 s, but the stream spoke 21 s ago
    a = c.settle()
    assert a.released == [] and a.expired == [] and sorted(c.held) == [1, 2]
    now[0] += 40
    a = c.settle()
    assert a.released == [1, 2] and a.expired == [] and c.watermark == later + 50


def test_wrong_clock_events_outnumbering_a_live_stream_are_never_confirmed():
    c = clock(hold_arrivals=10_000)
    c.admit(np.array([T0]))
    t, released = T0, []
    for k in range(200):  # two bad events for every valid one, the valid ones moving on
        t += 30
        ts = np.array([T0 + TWO_YEARS + k, T0 + TWO_YEARS + k + 0.5, t])
        a = c.admit(ts, tokens=[3 * k, 3 * k + 1, 3 * k + 2])
        released += a.released
    assert released == [] and c.watermark == t and len(c.held) == 400


def test_any_in_bounds_event_starts_the_confirmation_again():
    c = clock()
    c.admit(np.array([T0 + 100]))
    far = T0 + TWO_YEARS
    # Four ahead, then a post in the same second as the watermark, then four more.
    a = c.admit(np.array([far, far, far, far, T0 + 100, far, far, far, far]))
    assert not a.released and c.watermark == T0 + 100
    assert c.admit(np.array([far])).released  # the fifth in a row confirms


def test_a_real_gap_confirmed_among_wrong_clock_events_does_not_chain_into_theirs():
    """A live stream with a two-day gap, two events two years fast per valid one."""
    c = clock(hold_arrivals=10_000)
    c.admit(np.array([T0 - 60.0]))  # the stream is established
    valid = np.r_[T0 + 60 * np.arange(50), T0 + 2 * 86400 + 60 * np.arange(50)]
    arrivals: list[float] = []
    for k, t in enumerate(valid):
        arrivals += [float(t), T0 + TWO_YEARS + k, T0 + TWO_YEARS + k + 0.5]
    released, late = [], 0
    for i in range(0, len(arrivals), 9):
        a = c.admit(np.array(arrivals[i : i + 9]), tokens=list(range(i, i + 9)))
        released += a.released
        late += int((a.verdict == LATE).sum())
    assert late == 0 and c.watermark == valid[-1]
    assert all(arrivals[tok] < T0 + TWO_YEARS for tok in released)  # only the gap's events


def test_a_new_stream_starts_its_clock_at_its_first_batchs_median():
    c = clock()
    a = c.admit(np.array([T0 + TWO_YEARS, T0, T0 + 5, T0 + 9]), tokens=[1, 2, 3, 4])
    assert a.verdict.tolist() == [HELD, OK, OK, OK] and c.watermark == T0 + 9
