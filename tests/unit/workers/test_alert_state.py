"""Checkpointing the alert detector and the trend counter: a restore continues exactly."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest

from tests.unit.workers.synthetic import DIM, centres, posts, texts_for
from workers.alerts import AlertDetector, AlertSettings
from workers.engine_config import EngineConfig
from workers.topic_engine import TopicTrackEngine
from workers.trending import TrendCounter, TrendSettings

HOUR = 3600.0
T0 = 1_700_000_000.0


def _batches():
    """A quiet story for four days, then its burst and a new story: both kinds fire.

    The quiet story gets 7 posts on its first day (under ``new_min_docs``),
    then one every 3 hours: established, never "new".
    """
    c = centres(2, seed=11)
    out = []
    hours = [0, 0.4, 0.8, 1.2, 1.6, 8, 16, *range(24, 96, 3)]
    x = posts(c[0], len(hours), seed=1)
    ts = T0 + HOUR * np.array(hours, dtype=np.float64)
    for s in range(0, len(hours), 4):
        out.append((x[s : s + 4], ts[s : s + 4], texts_for(["market"], len(ts[s : s + 4]), seed=s)))
    xb = posts(c[0], 60, seed=2)
    tb = T0 + 96 * HOUR + 30.0 * np.arange(60)
    xn = posts(c[1], 60, seed=3)
    for s in range(0, 60, 6):
        out.append((xb[s : s + 6], tb[s : s + 6], texts_for(["market"], 6, seed=100 + s)))
        out.append((xn[s : s + 6], tb[s : s + 6] + 1, texts_for(["quake"], 6, seed=200 + s)))
    return out


def _run(eng, det, batches):
    alerts = []
    for x, ts, texts in batches:
        res = eng.learn_many(x, ts, texts)
        alerts += det.observe(eng, res, ts)
    return alerts


def test_restored_detector_continues_like_an_uninterrupted_one() -> None:
    batches = _batches()
    config = EngineConfig(half_life_s=7 * 24 * HOUR)
    clock = lambda: 5.0  # noqa: E731 - created_at must not differ between runs
    eng, det = TopicTrackEngine(DIM, config), AlertDetector("s", clock=clock)
    straight = _run(eng, det, batches)
    assert {a.kind for a in straight} == {"new", "burst"}

    for cut in (3, 9, 12, 20):  # before, at and inside the burst
        eng, det = TopicTrackEngine(DIM, config), AlertDetector("s", clock=clock)
        first = _run(eng, det, batches[:cut])
        eng2 = TopicTrackEngine.restore(eng.snapshot())
        det2 = AlertDetector.restore(det.snapshot(), clock=clock)
        assert det2.stream == "s" and det2.settings == det.settings
        rest = _run(eng2, det2, batches[cut:])
        # Neither lost nor repeated: the same alerts, same ids, same order.
        assert [a.to_dict() for a in first + rest] == [a.to_dict() for a in straight], cut


def test_restore_with_other_windows_keeps_cooldowns_and_restarts_counts() -> None:
    det = AlertDetector("s")
    det.trend.add(np.array([1, 1, 2]), np.array([T0, T0 + 60, T0 + 120]))
    det.alerted = {1: T0}
    det.disarmed = {2}
    blob = det.snapshot()
    same = AlertDetector.restore(blob)
    for got, want in zip(
        same.trend.window_counts([1, 2]), det.trend.window_counts([1, 2]), strict=True
    ):
        assert got.tolist() == want.tolist()
    other = AlertDetector.restore(blob, AlertSettings(burst_window_s=2 * HOUR))
    assert other.alerted == {1: T0} and other.disarmed == {2}
    assert other.trend.row == {} and other.trend.head is None
    with pytest.raises(ValueError, match="snapshot"):
        AlertDetector.restore(b"not a snapshot")


def test_trend_counter_state_round_trip_keeps_ranking() -> None:
    tc = TrendCounter(TrendSettings(window_s=900, baseline_s=3 * HOUR, min_support=2))
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 40, size=3000)
    ts = T0 + np.sort(rng.uniform(0, 4 * HOUR, size=3000))
    tc.add(ids, ts)
    tc.merge(7, 3)
    copy = TrendCounter(tc.settings)
    copy.load(tc.state())
    assert [r.__dict__ for r in copy.ranking(50)] == [r.__dict__ for r in tc.ranking(50)]
    # Both go on identically.
    more = T0 + 4 * HOUR + np.arange(30) * 10.0
    for c in (tc, copy):
        c.add(np.full(30, 5), more)
    assert [r.__dict__ for r in copy.ranking(50)] == [r.__dict__ for r in tc.ranking(50)]
    with pytest.raises(ValueError, match="other windows"):
        TrendCounter(TrendSettings(window_s=1800, baseline_s=3 * HOUR)).load(tc.state())


def test_story_state_survives_a_restore() -> None:
    det = AlertDetector("s")
    c = np.zeros(DIM, dtype=np.float32)
    c[0] = 1.0
    det.stories.remember(T0, 4, 4, ["flood", "brisbane"], c)
    det.stories.link(9, 4)
    again = AlertDetector.restore(det.snapshot())
    assert again.stories.story(9) == 4 and again.stories.story(5) == 5
    assert again.stories.match(T0 + 3 * 24 * HOUR, ["brisbane", "flood"], c) == 4


def test_a_snapshot_written_before_stories_still_restores() -> None:
    from workers import npz_blob

    det = AlertDetector("s")
    meta = {
        "format": "topictrack-alerts/1",
        "stream": "s",
        "settings": {
            k: v
            for k, v in asdict(det.settings).items()
            if k not in ("story_window_s", "story_cosine", "story_shared_keywords")
        },
        "young": [[3, T0]],
        "alerted": [[2, T0]],
        "disarmed": [],
        "suppressed": 1,
        "recent": [[T0, 2, ["flood", "river"]]],
        "trend_settings": det.trend.state()["settings"],
        "trend_head": det.trend.state()["head"],
    }
    centroid = np.zeros((1, DIM), dtype=np.float32)
    centroid[0, 0] = 1.0
    trend = det.trend.state()
    blob = npz_blob.pack(
        meta,
        {
            "recent_centroids": centroid,
            "trend_topic_ids": trend["topic_ids"],
            "trend_counts": trend["counts"],
        },
    )
    old = AlertDetector.restore(blob)
    assert old.alerted == {2: T0} and old.young == {3: T0}
    # Its same-day list is now the story book: a same-day repeat still matches.
    assert old.stories.match(T0 + HOUR, ["flood", "river"], centroid[0]) == 2
