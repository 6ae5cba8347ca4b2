"""The trending SQL (schemas/queries/trending.sql and the trending_topics view) on chdb
and on a ClickHouse server ranks exactly as ``workers.trending.TrendCounter``."""

from __future__ import annotations

import numpy as np
import pytest

from streamer.store import trending_queries
from workers.trending import TrendCounter, TrendSettings

T0 = 1_700_000_000  # a minute boundary plus 20 s: 1_699_999_980 is one
DAY = 86400


def _stream(seed: int, n_topics: int = 12, n: int = 4000):
    """Random posts over 26 hours: steady topics, a few bursting in the last 15 minutes."""
    rng = np.random.default_rng(seed)
    ts = T0 + np.sort(rng.uniform(0, 26 * 3600, n))
    topic = rng.integers(1, n_topics + 1, n)
    burst_ts = T0 + 26 * 3600 - rng.uniform(0, 14 * 60, 300)
    burst_topic = rng.choice([2, 5, 9], 300, p=[0.6, 0.3, 0.1])
    ts = np.concatenate([ts, burst_ts])
    topic = np.concatenate([topic, burst_topic])
    unassigned = rng.random(len(ts)) < 0.05
    topic[unassigned] = -1
    return ts, topic


def _rows(stream: str, ts, topic, start: int = 0):
    return [
        {
            "event_id": f"{stream}-{start + i}",
            "stream": stream,
            "ts": float(t),
            "text": "x",
            "topic_id": int(k),
            "version": 0,
        }
        for i, (t, k) in enumerate(zip(ts, topic, strict=True))
    ]


def _key(rows):
    """Order-independent comparison key: ties in score may come in any order."""
    return sorted(
        (round(-r["score"], 9), r["topic_id"], r["window_count"], r["baseline_count"]) for r in rows
    )


def test_sql_ranking_equals_trend_counter(store):
    ts, topic = _stream(1)
    rows = _rows("default", ts, topic)
    store.insert_events(rows)
    store.insert_events(rows[:500])  # a Kafka redelivery: counted once
    # Late assignments: 40 buffered posts get topic 3 (version 1 rows).
    waiting = [r for r in rows if r["topic_id"] == -1][:40]
    store.insert_events([{**r, "topic_id": 3, "version": 1} for r in waiting])
    # Topic 12 merged into topic 5: its posts count for the survivor.
    store.insert_topics(
        [
            {"topic_id": 12, "stream": "default", "version": 9, "status": "merged",
             "merged_into": 5, "label": "gone", "keywords": ["gone"]},
            {"topic_id": 5, "stream": "default", "version": 3, "status": "active",
             "label": "five", "keywords": ["five", "5"]},
        ]
    )  # fmt: skip
    # Another stream with a different "now": per-stream event time.
    other_ts, other_topic = _stream(2, n=800)
    store.insert_events(_rows("other", other_ts - 3 * DAY, other_topic))

    late = {r["event_id"] for r in waiting}
    for window, baseline, support in ((900, DAY, 5), (3600, 6 * 3600, 3), (60, 600, 1)):
        tc = TrendCounter(TrendSettings(window, baseline, support))
        assigned = topic.copy()
        ids = [r["event_id"] for r in rows]
        assigned[[i for i, e in enumerate(ids) if e in late]] = 3
        tc.add(assigned, ts)
        tc.merge(12, 5)
        want = [r.__dict__ for r in tc.ranking(limit=100)]
        got = trending_queries.trending(store, "default", window, baseline, support, limit=100)
        assert want, "the scenario must have trending topics"
        assert _key(got) == _key(want), (window, baseline)
        assert [r["score"] for r in got] == sorted((r["score"] for r in got), reverse=True)
        for g in got:
            w = next(r for r in want if r["topic_id"] == g["topic_id"])
            assert g["growth"] == pytest.approx(w["growth"], rel=1e-9)
            assert g["score"] == pytest.approx(w["score"], rel=1e-9, abs=1e-12)
        assert all(g["topic_id"] not in (12, -1) for g in got)
        # "now" is the newest minute with an assigned post, not the wall clock.
        newest = int(ts[assigned >= 0].max()) // 60 * 60
        assert {g["now_ts"] for g in got} == {newest}
    top = trending_queries.trending(store, "default", limit=3)
    assert top[0]["topic_id"] == 2 and len(top) == 3
    five = next(
        r for r in trending_queries.trending(store, "default", limit=50) if r["topic_id"] == 5
    )
    assert five["label"] == "five" and five["keywords"] == ["five", "5"]

    # The dashboard view: the same ranking with the default windows, every stream.
    view = store.query("SELECT * FROM trending_topics ORDER BY stream, score DESC, topic_id")
    for stream in ("default", "other"):
        mine = [r for r in view if r["stream"] == stream]
        query = trending_queries.trending(store, stream, limit=1000)
        assert mine and _key(mine) == _key(query), stream
    assert next(r for r in view if r["topic_id"] == 5 and r["stream"] == "default")["label"] == (
        "five"
    )


def test_trending_of_an_empty_or_unknown_stream_is_empty(store):
    assert trending_queries.trending(store, "nothing-here") == []
    assert store.query("SELECT * FROM trending_topics") == []
    with pytest.raises(ValueError):
        trending_queries.trending(store, "default", window_s=90)
