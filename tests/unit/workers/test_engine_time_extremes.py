"""The engine's arithmetic survives any event time: years late, years ahead, then normal.

The track stage bounds lateness and future skew (workers/event_clock.py), but
the engine is a library too: no event time may make it raise, or produce NaN,
on that batch or any later one. Measured before the fix: a batch two years
late raised ZeroDivisionError in the birth step, and one two years ahead made
every later batch raise OverflowError.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tests.unit.workers.synthetic import DIM, centres, posts
from workers import TopicTrackEngine

T0 = 1_400_000_000.0
YEAR = 365 * 86400.0


@pytest.mark.parametrize("late_years", [0.02, 1.2, 2, 20])
def test_very_late_posts_neither_raise_nor_poison_later_batches(late_years):
    c = centres(2, seed=1)
    eng = TopicTrackEngine(DIM)
    story = posts(c[0], 30, seed=2)
    eng.learn_many(story[:20], T0 + 60 * np.arange(20), ["flood river"] * 20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow, division or NaN warnings either
        late = eng.learn_many(
            posts(c[1], 8, seed=3), T0 - late_years * YEAR + np.arange(8), ["quake"] * 8
        )
        after = eng.learn_many(story[20:], T0 + 3600 + np.arange(10), ["flood river"] * 10)
    assert np.isfinite(late.topk_probs).all() and np.isfinite(after.similarity).all()
    assert set(after.topic_ids.tolist()) == {1}  # the live story goes on under its id


def test_a_jump_years_ahead_then_normal_time_keeps_working():
    c = centres(2, seed=4)
    eng = TopicTrackEngine(DIM)
    story = posts(c[0], 40, seed=5)
    eng.learn_many(story[:20], T0 + 60 * np.arange(20), ["flood river"] * 20)
    eng.learn_many(story[20:22], np.full(2, T0 + 2 * YEAR), ["flood"] * 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k in range(3):
            res = eng.learn_many(
                story[22 + 6 * k : 28 + 6 * k], T0 + 7200 + 60 * np.arange(6), ["flood"] * 6
            )
            assert np.isfinite(res.similarity).all() and np.isfinite(res.topk_probs).all()
    assert all(np.isfinite(v.weight) for v in eng.topics(include_inactive=True))
