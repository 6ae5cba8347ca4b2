"""Emerging-topic alerts and trending, fed by the real engine on synthetic streams."""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pytest

from schemas import SCHEMA_DIR
from tests.unit.workers.synthetic import DIM, centres, posts, texts_for, unit
from workers.alerts import AlertDetector, AlertSettings
from workers.engine_config import EngineConfig
from workers.topic_engine import TopicTrackEngine
from workers.trending import TrendCounter, TrendSettings, trend_score

HOUR = 3600.0
T0 = 1_700_000_000.0


def run(eng, det, centre, n, t0, spacing, words, seed):
    """Feed ``n`` posts of ``centre`` one small batch at a time; return the alerts."""
    alerts = []
    x = posts(centre, n, seed=seed)
    ts = t0 + spacing * np.arange(n)
    texts = texts_for(words, n, seed=seed)
    for s in range(0, n, 4):
        res = eng.learn_many(x[s : s + 4], ts[s : s + 4], texts[s : s + 4])
        alerts += det.observe(eng, res, ts[s : s + 4])
    return alerts


def test_a_new_story_alerts_once_when_it_reaches_support() -> None:
    eng = TopicTrackEngine(DIM)
    det = AlertDetector(settings=AlertSettings(new_min_docs=10), clock=lambda: 123.0)
    c = centres(1, seed=1)[0]
    alerts = run(eng, det, c, 40, T0, 60.0, ["quake", "magnitude"], 1)
    assert [a.kind for a in alerts] == ["new"]
    a = alerts[0]
    assert a.topic_id == 1 and a.size >= 10
    assert set(a.keywords[:2]) == {"quake", "magnitude"}
    assert a.examples and a.created_at == 123.0
    assert a.first_seen == T0
    schema = json.loads((SCHEMA_DIR / "alert.schema.json").read_text())
    jsonschema.validate(a.to_dict(), schema)
    # Same input, same alert id: sinks deduplicate redeliveries on it.
    eng2, det2 = TopicTrackEngine(DIM), AlertDetector(settings=AlertSettings(new_min_docs=10))
    assert run(eng2, det2, c, 40, T0, 60.0, ["quake", "magnitude"], 1)[0].alert_id == a.alert_id


def test_slow_chatter_never_alerts_as_new() -> None:
    eng = TopicTrackEngine(DIM, EngineConfig(half_life_s=7 * 24 * HOUR))
    det = AlertDetector(settings=AlertSettings(new_min_docs=10, new_within_s=24 * HOUR))
    # 30 posts, one every 6 hours: ten posts take 2.5 days, longer than the new window.
    alerts = run(eng, det, centres(1, seed=2)[0], 30, T0, 6 * HOUR, ["chat"], 2)
    assert alerts == []


def test_a_related_topic_born_the_same_day_is_the_same_story_not_news() -> None:
    x, y, z = centres(3, seed=7)
    # Side stories: centroids at cosine ~0.41 from the main story's (a language
    # variant, a sub-thread), far enough that their posts do not join it.
    side1, side2 = unit(0.35 * x + 0.94 * y), unit(0.35 * x + 0.94 * z)
    eng = TopicTrackEngine(DIM)
    det = AlertDetector(settings=AlertSettings(new_min_docs=10))
    main = run(eng, det, x, 30, T0, 60.0, ["quake", "magnitude"], 1)
    same_day = run(eng, det, side1, 30, T0 + 3 * HOUR, 60.0, ["terremoto", "scossa"], 2)
    # (Texts without the shared filler words: days later, shared words would make it a
    # development; here only the cosine is close.)
    x3, ts3 = posts(side2, 30, seed=3), T0 + 48 * HOUR + 60.0 * np.arange(30)
    days_later = []
    for s in range(0, 30, 4):
        res = eng.learn_many(x3[s : s + 4], ts3[s : s + 4], ["sismo temblor"] * len(ts3[s : s + 4]))
        days_later += det.observe(eng, res, ts3[s : s + 4])
    assert [a.kind for a in main] == ["new"]
    # Told again the same day: a development of the main story, never "new".
    assert [(a.kind, a.story_id) for a in same_day] == [("development", main[0].topic_id)]
    assert det.suppressed == 1 and same_day[0].topic_id != main[0].topic_id
    # Days later, with other words: a story of its own.
    assert [a.kind for a in days_later] == ["new"]
    assert days_later[0].story_id == days_later[0].topic_id


def test_an_established_topic_bursting_alerts_once_with_hysteresis() -> None:
    eng = TopicTrackEngine(DIM, EngineConfig(half_life_s=7 * 24 * HOUR))
    det = AlertDetector(settings=AlertSettings(new_min_docs=1000))  # no "new" alerts here
    c = centres(1, seed=3)[0]
    # Four days at one post per hour: established, with a steady baseline.
    quiet = run(eng, det, c, 96, T0, HOUR, ["market"], 3)
    assert quiet == []
    # Then 60 posts in half an hour, twice (the second inside the cooldown).
    burst1 = run(eng, det, c, 60, T0 + 96 * HOUR, 30.0, ["market"], 4)
    burst2 = run(eng, det, c, 60, T0 + 100 * HOUR, 30.0, ["market"], 5)
    assert [a.kind for a in burst1] == ["burst"]
    assert burst1[0].score >= 6.0
    assert burst2 == []


def test_merging_two_alerted_topics_does_not_realert() -> None:
    det = AlertDetector(settings=AlertSettings(new_min_docs=5))

    class Result:
        def __init__(self, lineage):
            self.topic_ids = np.array([], dtype=np.int64)
            self.lineage = lineage
            self.late = []

    from workers.topic_types import LineageEvent

    det.alerted = {1: T0, 2: T0}
    det.observe(None, Result([LineageEvent("merged", 2, T0 + 1, other=1)]), np.array([T0 + 1]))
    assert 2 not in det.alerted and det.alerted[1] == T0
    assert 1 not in det.young


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="hysteresis"):
        AlertSettings(burst_score=2.0, burst_rearm_score=3.0)
    with pytest.raises(ValueError):
        TrendSettings(window_s=90.0)


def test_trend_counter_ranks_growth_over_baseline_with_support() -> None:
    tc = TrendCounter(TrendSettings(window_s=15 * 60, baseline_s=24 * HOUR, min_support=5))
    minutes = T0 + 60 * np.arange(24 * 60)
    # Topic 1: 2 posts every minute all day (big but flat). Topic 2: silent, then 20 in 10 min.
    tc.add(np.ones(len(minutes), dtype=np.int64), minutes)
    tc.add(np.ones(len(minutes), dtype=np.int64), minutes)
    burst_ts = minutes[-1] - 60 * np.arange(10)
    tc.add(np.full(20, 2), np.repeat(burst_ts, 2))
    tc.add(np.array([3, 3]), np.array([minutes[-1], minutes[-1]]))  # two posts: no support
    rows = tc.ranking()
    assert [r.topic_id for r in rows] == [2, 1]
    assert rows[0].window_count == 20 and rows[0].growth > 10
    assert rows[1].window_count == 30
    win, base = tc.window_counts([1])
    assert trend_score(win, base, 900, 86400)[0] == pytest.approx(rows[1].score)
    # A late post inside the span lands in its own minute, not the newest.
    tc.add(np.array([3]), np.array([minutes[0] + 30]))
    assert tc.window_counts([3])[1][0] == 1


def test_recent_count_covers_the_trailing_span_only() -> None:
    tc = TrendCounter(TrendSettings(window_s=HOUR, baseline_s=7 * 24 * HOUR, bucket_s=600))
    tc.add(np.array([4, 4, 4]), np.array([T0, T0 + 20 * HOUR, T0 + 47 * HOUR]))
    # Newest bucket is 47 h: a day back reaches 23 h, so the post at 20 h is out.
    assert tc.recent_count(4, 24 * HOUR) == 1
    assert tc.recent_count(4, 30 * HOUR) == 2
    assert tc.recent_count(4, 60 * HOUR) == 3
    assert tc.recent_count(5, 60 * HOUR) == 0


def test_posts_taken_back_by_a_newborn_topic_leave_the_older_topics_counts() -> None:
    tc = TrendCounter(TrendSettings(window_s=HOUR, baseline_s=7 * 24 * HOUR, bucket_s=600))
    tc.add(np.array([4, 4, 4, 5]), np.array([T0, T0 + 60, T0 + 120, T0 + 120]))
    tc.remove(np.array([4, 4]), np.array([T0 + 60, T0 + 120]))
    tc.add(np.array([9, 9]), np.array([T0 + 60, T0 + 120]))
    assert [tc.recent_count(t, HOUR) for t in (4, 5, 9)] == [1, 1, 2]
    # Never below zero; unknown topics and buckets outside the counted span are no-ops.
    tc.remove(np.array([4, 4, 7]), np.array([T0, T0, T0]))
    tc.remove(np.array([5]), np.array([T0 - 30 * 24 * HOUR]))
    assert [tc.recent_count(t, HOUR) for t in (4, 5, 7)] == [0, 1, 0]
    assert 7 not in tc.row


def test_the_detector_moves_counts_with_a_take_back() -> None:
    from workers.topic_types import BatchResult, LateAssignment

    det = AlertDetector()
    empty = np.zeros((0, 1))
    first = BatchResult(np.array([3, 3, 3]), np.ones(3, np.float32), empty, empty)
    det.observe(None, first, np.array([T0, T0 + 60, T0 + 120]))
    took = LateAssignment(["a", "b"], 8, np.ones(2, np.float32), np.array([T0, T0 + 60]))
    took.previous = np.array([3, 3])
    det.observe(None, BatchResult(np.array([8]), np.ones(1), empty, empty, [took]), [T0 + 180])
    assert det.trend.recent_count(3, HOUR) == 1 and det.trend.recent_count(8, HOUR) == 3


def test_a_sub_story_days_later_is_a_development_and_another_event_of_its_kind_is_new() -> None:
    x, y, z, w = centres(4, seed=9)
    # Both later topics sit at cosine ~0.6 from the first (same kind of event),
    # far enough apart that their posts do not join it; only the words differ.
    donations, other_flood = unit(0.6 * x + 0.8 * y), unit(0.6 * x + 0.8 * z)
    eng = TopicTrackEngine(DIM)
    det = AlertDetector(settings=AlertSettings(new_min_docs=10))

    def story(centre, hours, text, seed):
        x = posts(centre, 30, seed=seed)
        ts = T0 + hours * HOUR + 60.0 * np.arange(30)
        out = []
        for s in range(0, 30, 4):
            res = eng.learn_many(x[s : s + 4], ts[s : s + 4], [text] * len(ts[s : s + 4]))
            out += det.observe(eng, res, ts[s : s + 4])
        return out

    first = story(x, 0, "flood brisbane queensland river", 1)
    sub = story(donations, 72, "donations brisbane queensland volunteers", 2)
    other = story(other_flood, 120, "flood calgary alberta bow", 3)
    sid = first[0].topic_id
    assert [(a.kind, a.story_id) for a in first] == [("new", sid)]
    assert [(a.kind, a.story_id) for a in sub] == [("development", sid)]
    assert [a.kind for a in other] == ["new"] and other[0].story_id == other[0].topic_id
    # Past the story window, the same names start a story of their own.
    late = story(unit(0.6 * x + 0.8 * w), 14 * 24, "cleanup brisbane queensland mud", 4)
    assert [a.kind for a in late] == ["new"]
