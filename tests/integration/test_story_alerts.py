"""A story that grows a second topic: its alert is a ``development``, end to end.

Real tansu broker, real model, chdb (``alert_helpers.story_scenario``): a flood
is announced as ``new``; told again in Spanish 30 hours later, it grows a
second topic, which must be announced as a ``development`` of the same story
in Kafka ``alerts`` and in ClickHouse, both topics carrying that story's id in
the ``topics`` table and in ``/api/v1/topics``.
"""

from __future__ import annotations

from alert_helpers import STORY_ENGINE_PARAMS, replay_until_alerts, story_scenario
from integration_helpers import Worker

from streamer.store import open_store


def test_a_story_growing_a_second_topic_alerts_as_a_development(tmp_path):
    story, development = story_scenario()
    data = tmp_path / "data"
    with Worker(data, extra=("--engine-params", STORY_ENGINE_PARAMS)) as w:
        in_kafka = replay_until_alerts(w, [story, development], 2)
        assert [a["kind"] for a in in_kafka] == ["new", "development"]
        first, dev = in_kafka
        assert first["story_id"] == first["topic_id"] != dev["topic_id"]
        assert dev["story_id"] == first["topic_id"]
        w.wait_for(lambda c: c.get("sink.topics", 0) >= 2, what="topics stored")
        live = w.get(f"/api/v1/topics?story={first['topic_id']}")
        assert {t["topic_id"] for t in live["topics"]} == {first["topic_id"], dev["topic_id"]}
        assert [g["story_id"] for g in live["stories"]] == [first["topic_id"]]
    assert w.proc.returncode == 0, w.output()

    with open_store(f"chdb:{data / 'chdb'}") as store:
        rows = store.query("SELECT kind, topic_id, story_id FROM alerts FINAL ORDER BY window_end")
        assert [(r["kind"], r["story_id"]) for r in rows] == [
            ("new", first["topic_id"]),
            ("development", first["topic_id"]),
        ]
        latest = store.query(
            "SELECT topic_id, argMax(story_id, version) AS story FROM topics GROUP BY topic_id"
        )
        stories = {r["topic_id"]: r["story"] for r in latest}
        assert stories[dev["topic_id"]] == stories[first["topic_id"]] == first["topic_id"]
