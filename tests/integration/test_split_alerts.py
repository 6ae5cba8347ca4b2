"""A new event that starts inside an older topic of its kind gets its own ``new`` alert.

Real tansu broker, real model, chdb (``alert_helpers.split_scenario``): an
oil-train derailment is a topic of 150 posts; four days later another train
crash, elsewhere, whose posts join that topic (same kind of event), must be
split off by the words its posts share (``split_from`` the old topic) and
announced as ``new``, in Kafka ``alerts`` and in ClickHouse.
"""

from __future__ import annotations

from alert_helpers import replay_until_alerts, split_scenario
from integration_helpers import Worker

from streamer.store import open_store


def test_a_new_event_inside_an_old_topic_splits_off_and_alerts_as_new(tmp_path):
    phases, new_event = split_scenario()
    data = tmp_path / "data"
    with Worker(data) as w:
        # The new event a few posts at a time (sent at once, its posts would be
        # born as a topic in one batch, never absorbed).
        trickle = [new_event[i : i + 5] for i in range(0, len(new_event), 5)]
        in_kafka = replay_until_alerts(w, [*phases, *trickle], 2)
        assert [a["kind"] for a in in_kafka] == ["new", "new"]
        old, new = in_kafka
        assert "santiago" in " ".join(new["keywords"][:5]) and new["story_id"] == new["topic_id"]
        assert "megantic" in " ".join(old["keywords"][:5])
    assert w.proc.returncode == 0, w.output()

    with open_store(f"chdb:{data / 'chdb'}") as store:
        rows = store.query(
            "SELECT topic_id, argMax(split_from, version) AS parent FROM topics "
            "WHERE topic_id = %(t)s GROUP BY topic_id",
            {"t": new["topic_id"]},
        )
        assert [r["parent"] for r in rows] == [old["topic_id"]]
        stored = store.query("SELECT kind, topic_id FROM alerts FINAL ORDER BY window_end")
        assert [(r["kind"], r["topic_id"]) for r in stored] == [
            ("new", old["topic_id"]),
            ("new", new["topic_id"]),
        ]
