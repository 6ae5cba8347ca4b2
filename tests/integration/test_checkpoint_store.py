"""Track checkpoints in ClickHouse: what lets a partition's state move between workers."""

from __future__ import annotations

import numpy as np

from streamer.pipeline.checkpoint import StoreCheckpoints
from streamer.pipeline.codec import EmbeddedBatch
from streamer.pipeline.tracker import Tracker
from tests.unit.workers.synthetic import centres, posts, texts_for
from workers.engines import make_engine, restore_engine

T0 = 1_700_000_000.0


def _batch(x: np.ndarray, start: int, stream: str) -> EmbeddedBatch:
    texts = texts_for(["quake", "tremor", "epicentre"], len(x), seed=start)
    events = [
        {"id": f"{stream}-{start + i}", "ts": T0 + 60.0 * (start + i), "text": t}
        for i, t in enumerate(texts)
    ]
    return EmbeddedBatch(stream, events, x)


def test_a_partition_moves_to_another_tracker_through_the_store(store):
    cps = StoreCheckpoints(store, namespace="topictrack-track")
    x = posts(centres(1, seed=3)[0], 40, seed=4)
    one = Tracker(cps, factories=(make_engine, restore_engine), clock=lambda: T0 + 86400)
    for k in range(0, 20, 5):
        one.learn(_batch(x[k : k + 5], k, "news"), partition=2)
    one.mark("embedded", 2, 11)
    assert one.save() == 1 and one.save() == 2
    assert cps.partitions() == [2]
    topics = {v.topic_id for v in one.engines["news"].topics()}
    assert topics

    # Another worker (another namespace sees nothing) takes partition 2 over.
    assert StoreCheckpoints(store, namespace="other").load(2) is None
    two = Tracker(cps, factories=(make_engine, restore_engine), clock=lambda: T0 + 86400)
    two.ensure(2)
    assert two.covered("embedded", 2, 11) and not two.covered("embedded", 2, 12)
    assert two.engines["news"].snapshot() == one.engines["news"].snapshot()  # exact restore
    out_one = one.learn(_batch(x[20:], 20, "news"), partition=2)
    out_two = two.learn(_batch(x[20:], 20, "news"), partition=2)
    assert [r["topic_id"] for r in out_two.assignments] == [
        r["topic_id"] for r in out_one.assignments
    ]
    assert {r["topic_id"] for r in out_two.assignments} <= topics  # no rebirth, same ids
    assert two.save() == 3
