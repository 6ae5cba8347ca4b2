"""The Store contract on chdb, and on a ClickHouse server when TOPICTRACK_CLICKHOUSE_URL is set."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from integration_helpers import REPO

from streamer.store import StoreLockedError, open_store, topic_queries
from streamer.store.sql import load_migrations


def event(i: int, topic: int = 1, version: int = 0, ts: int = 1_700_000_000) -> dict:
    return {
        "event_id": f"e{i}",
        "stream": "default",
        "ts": ts + i,
        "text": f'it\'s "text" {i} \\ é',
        "topic_id": topic,
        "similarity": 0.5,
        "topk_ids": [topic, 7],
        "topk_probs": [0.75, 0.25],
        "version": version,
    }


def test_migrate_is_idempotent(store):
    assert store.migrate() == []
    rows = store.query("SELECT count() AS n FROM schema_migrations")
    assert rows[0]["n"] == len(load_migrations())


def test_redelivered_events_count_once_and_late_version_wins(store):
    batch = [event(i, topic=-1 if i < 3 else 1) for i in range(10)]
    store.insert_events(batch)
    store.insert_events(batch)  # Kafka redelivery after a crash
    store.insert_events([event(i, topic=2, version=1) for i in range(3)])  # late assignments
    rows = store.query(
        "SELECT event_id, topic_id, version, text FROM events FINAL ORDER BY event_id"
    )
    assert len(rows) == 10
    assert {r["event_id"]: r["topic_id"] for r in rows}["e0"] == 2
    assert rows[0]["text"] == 'it\'s "text" 0 \\ é'
    counts = topic_queries.recent_counts(store, "default", until=1_700_000_100)
    assert counts[1] == 7 and counts[2] == 3  # exact despite duplicate inserts
    t = topic_queries.totals(store)
    assert t["events"] == 10 and t["assigned"] == 10


def test_topic_history_is_kept_and_latest_wins(store):
    def snap(version, size, status="active"):
        return {
            "topic_id": 4,
            "stream": "default",
            "version": version,
            "born_at": 1_700_000_000,
            "updated_at": 1_700_000_000 + version,
            "size": size,
            "weight": float(size),
            "centroid": [0.5] * 384,
            "keywords": ["flood", "rain"],
            "keyword_scores": [0.9, 0.8],
            "label": "flood rain",
            "status": status,
            "merged_into": None,
            "examples": ["it rains"],
        }

    store.insert_topics([snap(1, 10), snap(2, 20)])
    store.insert_topics([snap(2, 20)])  # redelivered
    assert store.query("SELECT count() AS n FROM topics FINAL")[0]["n"] == 2
    latest = topic_queries.latest_topics(store, "default")
    assert len(latest) == 1
    assert latest[0]["version"] == 2 and latest[0]["size"] == 20
    assert latest[0]["keywords"] == ["flood", "rain"] and latest[0]["merged_into"] == -1
    store.insert_topics([{**snap(3, 20, "merged"), "merged_into": 9}])
    assert topic_queries.latest_topics(store, "default") == []
    assert topic_queries.latest_topics(store, "default", include_merged=True)[0]["merged_into"] == 9


def test_alerts_and_dead_letters(store):
    alert = {
        "alert_id": "default/4/new/1700000000",
        "stream": "default",
        "topic_id": 4,
        "kind": "new",
        "score": 3.5,
        "window_start": 1_700_000_000,
        "window_end": 1_700_000_900,
        "first_seen": 1_700_000_000,
        "keywords": ["a"],
        "label": "a",
        "examples": ["x"],
    }
    store.insert_alerts([alert, alert])
    assert store.query("SELECT count() AS n FROM alerts FINAL")[0]["n"] == 1
    dl = {"reason": "bad", "stage": "validate", "raw": "{'x", "source_topic": "events"}
    store.insert_dead_letters([dl, dl, {**dl, "raw": "other"}])
    assert store.query("SELECT count() AS n FROM dead_letters FINAL")[0]["n"] == 2


def test_columnar_insert(store):
    store.insert_events({"event_id": ["c1", "c2"], "ts": [1, 2], "topic_id": [5, 6]})
    rows = store.query("SELECT event_id, topic_id, user_id FROM events ORDER BY event_id")
    assert rows == [
        {"event_id": "c1", "topic_id": 5, "user_id": ""},
        {"event_id": "c2", "topic_id": 6, "user_id": ""},
    ]
    with pytest.raises(ValueError):
        store.insert_events({"event_id": ["a"], "ts": [1, 2]})


def test_parameters_are_escaped(store):
    store.insert_events([event(1)])
    tricky = "x' OR '1'='1"
    assert store.query("SELECT count() AS n FROM events WHERE event_id = %(i)s", {"i": tricky}) == [
        {"n": 0}
    ]
    rows = store.query("SELECT event_id FROM events WHERE event_id IN %(ids)s", {"ids": ("e1",)})
    assert rows == [{"event_id": "e1"}]


def test_chdb_lock_names_the_holder(tmp_path):
    path = tmp_path / "locked"
    code = (
        "import sys, time\n"
        "from streamer.store import open_store\n"
        f"s = open_store('chdb:{path}')\n"
        "print('open', flush=True)\n"
        "time.sleep(60)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"open"
        time.sleep(0.2)
        with pytest.raises(StoreLockedError) as info:
            open_store(f"chdb:{path}")
        assert f"pid {holder.pid}" in str(info.value)
    finally:
        holder.kill()
        holder.wait()


def test_two_workers_migrating_one_database_at_once_both_succeed(tmp_path, clickhouse_url):
    """Sink and track workers start together and both migrate (seen in bench/faults.py)."""
    import threading

    from streamer.store import open_store as open_

    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def migrate() -> None:
        try:
            with open_(clickhouse_url) as s:
                barrier.wait()
                s.migrate()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=migrate) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with open_(clickhouse_url) as s:
        assert s.migrate() == []
