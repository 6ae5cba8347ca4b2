"""A story that grows a second topic: its alert is a ``development``, end to end.

Real tansu broker, real model, chdb (``alert_helpers.story_scenario``): a flood
is announced as ``new``; told again in Spanish 30 hours later, it grows a
second topic, which must be announced as a ``development`` of the same story
in Kafka ``alerts`` and in ClickHouse, both topics carrying that story's id in
the ``topics`` table and in ``/api/v1/topics``.
"""

from __future__ import annotations

import json

import jsonschema
from alert_helpers import STORY_ENGINE_PARAMS, jsonl, story_scenario
from integration_helpers import Worker
from test_alerts_pipeline import _kafka_alerts

from schemas import ALERT_SCHEMA_PATH
from streamer.store import open_store


def test_a_story_growing_a_second_topic_alerts_as_a_development(tmp_path):
    from streamer.kafka.producer import produce_lines

    story, development = story_scenario()
    data = tmp_path / "data"
    schema = json.loads(ALERT_SCHEMA_PATH.read_text())
    with Worker(data, extra=("--engine-params", STORY_ENGINE_PARAMS)) as w:
        done = 0
        for k, phase in enumerate((story, development)):  # as they would arrive live
            assert produce_lines(w.broker, jsonl(phase).splitlines()).sent == len(phase)
            done += len(phase)
            w.wait_for(lambda c, n=done: c.get("sink.events", 0) >= n, what=f"phase {k} stored")
        w.wait_for(
            lambda c: c.get("track.alerts", 0) >= 2 and c.get("sink.alerts", 0) >= 2,
            what="both alerts published and stored",
        )
        in_kafka = _kafka_alerts(w.broker)
        for a in in_kafka:
            jsonschema.validate(a, schema)
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
