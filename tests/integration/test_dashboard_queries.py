"""The dashboard's read queries on chdb and on the ClickHouse server (18.16 in CI).

A small, hand-made store: two streams, topic snapshots with versions, a merge
and a split, per-minute counts through the real materialized view, alerts
and dead letters. Every query of streams, timelines, topic detail, search,
health and the store's alert feed runs unchanged on both engines.
"""

from __future__ import annotations

from streamer.api.alert_feed import StoreFeed
from streamer.store import (
    alert_queries,
    health_queries,
    stream_queries,
    timeline_queries,
    topic_queries,
    trending_queries,
)
from tests.integration.dashboard_fixtures import T0, fill


def test_streams_and_event_time_now(store):
    fill(store)
    rows = {r["stream"]: r for r in stream_queries.streams(store)}
    d = rows["default"]
    assert d["now_ts"] == T0 + 29 * 60  # the newest minute with an assigned event
    assert d["events"] == 25 * 3 + 5 * 9 + 3 + 1 and d["assigned"] == d["events"] - 1
    assert abs(d["unassigned_share"] - 1 / d["events"]) < 1e-9
    assert stream_queries.now_minute(store, "other") == T0 + 3 * 60
    assert stream_queries.now_minute(store, "nope") is None


def test_timeline_counts_add_up_to_the_trending_window(store):
    fill(store)
    now = T0 + 29 * 60
    tl = timeline_queries.timeline(store, "default", [1, 2], now - 600, now)
    assert tl["minutes"][0] == now - 540 and tl["minutes"][-1] == now and len(tl["minutes"]) == 10
    # Topic 3 merged into 1: its 3 posts of the last minute count under 1, as trending does.
    assert tl["series"]["1"][-1] == 8 + 3 and tl["series"]["2"] == [1] * 10
    trend = trending_queries.trending(store, "default", 300, 3600, 1, 10)
    top = {r["topic_id"]: r for r in trend}
    assert top[1]["window_count"] == sum(tl["series"]["1"][-5:])
    assert trend[0]["topic_id"] == 1 and trend[0]["now_ts"] == now


def test_topic_detail_history_lineage_and_search(store):
    fill(store)
    row = topic_queries.topic_detail(store, "default", 1)
    assert row["version"] == 3 and row["keywords"] == ["strike", "union", "rail"]
    assert [round(x, 3) for x in row["keyword_scores"]] == [0.5, 0.4, 0.3]
    hist = topic_queries.keyword_history(store, "default", 1)
    assert [(h["version"], h["added"], h["removed"]) for h in hist] == [
        (1, [], []),
        (3, ["union"], []),
    ]
    lin = topic_queries.lineage(store, "default", row)
    assert lin["merged_into"] is None and lin["split_from"] is None
    assert [n["topic_id"] for n in lin["merged_from"]] == [3]
    assert [n["topic_id"] for n in lin["split_into"]] == [4]
    assert lin["split_into"][0]["label"] == "union · vote"
    child = topic_queries.lineage(store, "default", topic_queries.topic_detail(store, "default", 4))
    assert child["split_from"]["topic_id"] == 1
    assert topic_queries.topic_detail(store, "default", 77) is None
    found = topic_queries.latest_topics(store, "default", 10, contains="union")
    assert sorted(t["topic_id"] for t in found) == [1, 4]
    assert topic_queries.latest_topics(store, None, 10, contains="STREAM".lower())[0]["stream"] == (
        "other"
    )
    # Quotes and backslashes are parameters, not SQL.
    assert topic_queries.latest_topics(store, "default", 10, contains="x' OR 1=1 --\\") == []


def test_health_and_the_store_alert_feed(store):
    fill(store)
    reasons = health_queries.dead_letter_reasons(store)
    top = reasons[0]
    assert (top["stage"], top["reason"], top["n"]) == ("validate", "not JSON: x", 3)
    assert len(health_queries.recent_dead_letters(store, 2)) == 2
    feed = StoreFeed(store, clock=lambda: 1_800_000_100)
    items, _cursor = feed.after("S0.")
    assert [a["topic_id"] for _, a in items] == [1, 2]
    assert items[0][0] == f"S1800000000.{items[0][1]['alert_id']}"
    again, cursor2 = feed.after(items[0][0])  # resume after the first: only the second
    assert [a["topic_id"] for _, a in again] == [2] and cursor2 == items[1][0]
    assert feed.after(cursor2)[0] == []
    # Alerts created within the settle time are held back (one may still be on its way).
    young = StoreFeed(store, clock=lambda: 1_800_000_012)
    assert [a["topic_id"] for _, a in young.after("S0.")[0]] == [1]
    assert alert_queries.alerts_created_after(store, 0, "", 1_800_000_100)[1]["extra"] == {}
