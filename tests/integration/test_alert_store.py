"""The alerts table (migration 006) and its reads, on chdb and on a ClickHouse server."""

from __future__ import annotations

import pytest

from streamer.store import alert_queries
from streamer.store.sql import load_migrations

T0 = 1_741_932_000


def alert(i: int, kind: str = "new", stream: str = "default", end: float = T0) -> dict:
    """An ``Alert.to_dict()`` as the sink gets it from Kafka."""
    return {
        "alert_id": f"00000000-0000-0000-0000-{i:012d}",
        "stream": stream,
        "topic_id": i,
        "kind": kind,
        "score": 12.5 + i,
        "window_start": end - 3600,
        "window_end": end,
        "first_seen": end - 7200.5,
        "size": 40 + i,
        "keywords": ["flood", "river"],
        "label": "flood · river",
        "examples": ["the river is rising", 'it\'s "high"'],
        "created_at": 1_800_000_000.25,
        "extra": {"window_count": 30, "note": "é"},
    }


def test_alerts_have_every_schema_field_and_redeliveries_collapse(store):
    rows = [alert(1, end=T0), alert(2, "burst", end=T0 + 600), alert(3, end=T0 + 7200)]
    store.insert_alerts(rows)
    store.insert_alerts(rows[:2])  # Kafka redelivered two of them
    got = alert_queries.alerts(store)
    assert [a["alert_id"] for a in got] == [r["alert_id"] for r in rows]  # once each, oldest first
    a = got[0]
    assert a["size"] == 41 and a["extra"] == {"window_count": 30, "note": "é"}
    assert a["window_end"] == T0 and a["first_seen"] == int(T0 - 7200.5)
    assert a["examples"][1] == 'it\'s "high"' and a["keywords"] == ["flood", "river"]
    assert a["kind"] == "new" and a["score"] == pytest.approx(13.5)


def test_since_is_relative_to_the_newest_alert_and_filters_combine(store):
    store.insert_alerts(
        [
            alert(1, end=T0),
            alert(2, "burst", end=T0 + 1800),
            alert(3, end=T0 + 3600),
            alert(4, stream="other", end=T0 + 99 * 3600),
        ]
    )
    ids = lambda rows: [r["topic_id"] for r in rows]  # noqa: E731
    assert ids(alert_queries.alerts(store, since_s=1800, stream="default")) == [2, 3]
    assert ids(alert_queries.alerts(store, since_s=1800)) == [4]  # the newest is "other"'s
    assert ids(alert_queries.alerts(store, kind="burst")) == [2]
    assert ids(alert_queries.alerts(store, since_s=60, kind="burst")) == [2]
    assert ids(alert_queries.alerts(store, stream="default", limit=2)) == [2, 3]
    assert alert_queries.alerts(store, since_s=60, stream="nobody") == []
    assert alert_queries.newest_alert_time(store, "default") == T0 + 3600
    with pytest.raises(ValueError):
        alert_queries.alerts(store, kind="boom")


def test_the_alert_columns_migration_is_idempotent(store):
    m = next(m for m in load_migrations() if m.name == "alerts_v2")
    for statement in m.statements:  # as if an interrupted migration ran again
        store._apply(statement)
    cols = store.query(
        "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'alerts'"
    )
    names = [c["name"] for c in cols]
    assert names.count("size") == 1 and names.count("extra") == 1
    assert store.migrate() == []


def test_stories_reach_the_alerts_and_topics_tables(store):
    """Migration 010: a development alert and its topic carry the story they continue."""
    from streamer.store import topic_queries

    first, sub = alert(1), {**alert(2, "development", end=T0 + 86_400), "story_id": 1}
    store.insert_alerts([{**first, "story_id": 1}, sub])
    got = alert_queries.alerts(store, kind="development")
    assert [(a["topic_id"], a["story_id"]) for a in got] == [(2, 1)]
    topic = {
        "stream": "default",
        "version": 1,
        "born_at": T0,
        "updated_at": T0,
        "size": 10,
        "weight": 1.0,
        "label": "flood",
        "status": "active",
    }
    store.insert_topics(
        [
            {**topic, "topic_id": 1, "story_id": 1, "weight": 3.0},
            {**topic, "topic_id": 2, "story_id": 1},
            {**topic, "topic_id": 3, "story_id": 3},
            {**topic, "topic_id": 4},  # written without a story: -1
        ]
    )
    story = topic_queries.latest_topics(store, "default", story=1)
    assert [(t["topic_id"], t["story_id"]) for t in story] == [(1, 1), (2, 1)]
    every = topic_queries.latest_topics(store, "default")
    assert {t["topic_id"]: t["story_id"] for t in every} == {1: 1, 2: 1, 3: 3, 4: -1}
