"""Split planning and per-topic drift detection."""

from __future__ import annotations

import numpy as np

from tests.unit.workers.synthetic import centres, posts
from workers.drift import DriftMonitor, plan_split


def test_two_separate_groups_split_and_the_later_one_is_the_child() -> None:
    c = centres(2, seed=1)
    x = np.concatenate([posts(c[0], 30), posts(c[1], 20, seed=2)])
    ts = np.concatenate([np.arange(30.0), 100 + np.arange(20.0)])
    plan = plan_split(x, ts, min_size=5, threshold=0.6, successor_threshold=0.85)
    assert plan is not None
    assert sorted(plan.child_rows.tolist()) == list(range(30, 50))
    assert plan.separation < 0.6


def test_one_group_does_not_split() -> None:
    x = posts(centres(1, seed=3)[0], 60)
    ts = np.arange(60.0)
    assert plan_split(x, ts, min_size=5, threshold=0.6, successor_threshold=0.85) is None


def test_interleaved_subthemes_do_not_split_but_a_successor_does() -> None:
    c = centres(2, seed=4)
    a, b = c[0], (c[0] + 0.8 * c[1]) / np.linalg.norm(c[0] + 0.8 * c[1])
    x = np.concatenate([posts(a, 30), posts(b, 30, seed=5)])
    mixed_ts = np.random.default_rng(0).permutation(60).astype(float)
    assert plan_split(x, mixed_ts, 5, threshold=0.6, successor_threshold=0.9) is None
    later_ts = np.arange(60.0)  # the b posts all came after the a posts
    plan = plan_split(x, later_ts, 5, threshold=0.6, successor_threshold=0.9)
    assert plan is not None and plan.child_rows.min() >= 30


def test_monitor_flags_a_topic_whose_similarity_drops() -> None:
    mon = DriftMonitor("adwin")
    rng = np.random.default_rng(0)
    flagged: list[int] = []
    for step in range(40):
        level = 0.7 if step < 20 else 0.3
        sims = level + 0.02 * rng.standard_normal(25)
        flagged += mon.update(np.full(25, 7), sims)
    assert flagged and set(flagged) == {7}
    assert DriftMonitor("none").update(np.array([1]), np.array([0.1])) == []
