"""The track stage under the event-time policy, with the real engine.

The measured failure this guards against: a few schema-valid events two years
ahead of a 2013 stream made every later batch fail, and 0 of 500 valid events
were stored. Now every valid event gets its row, the bad ones are rejected
with a reason, and held events survive a checkpoint.
"""

from __future__ import annotations

import numpy as np

from streamer.pipeline.codec import EmbeddedBatch
from streamer.pipeline.tracker import Tracker
from tests.unit.workers.synthetic import centres, posts, texts_for
from workers.engines import make_engine, restore_engine
from workers.event_clock import EventTimePolicy

T0 = 1_360_000_000.0  # 2013
WALL = 1_800_000_000.0
TWO_YEARS = 2 * 365 * 86400.0
FACTORIES = (make_engine, restore_engine)


def tracker(path, **policy) -> Tracker:
    return Tracker(
        path, factories=FACTORIES, clock=lambda: WALL, event_time=EventTimePolicy(**policy)
    )


def interleaved(n_valid: int = 200, every: int = 10) -> list[EmbeddedBatch]:
    """Two stories at one post a minute, with a wrong-clock post after every ``every``."""
    c = centres(2, seed=4)
    x = np.concatenate([posts(c[0], n_valid // 2, seed=1), posts(c[1], n_valid // 2, seed=2)])
    texts = texts_for(["quake", "tremor"], n_valid // 2) + texts_for(
        ["flood", "river"], n_valid // 2
    )
    events, vectors = [], []
    for i in range(n_valid):
        events.append({"id": f"v{i}", "ts": T0 + 60.0 * i, "text": texts[i]})
        vectors.append(x[i])
        if i % every == every - 1:
            events.append({"id": f"bad{i}", "ts": T0 + TWO_YEARS + i, "text": texts[i]})
            vectors.append(x[i])
    return [
        EmbeddedBatch("s", events[k : k + 8], np.stack(vectors[k : k + 8]))
        for k in range(0, len(events), 8)
    ]


def test_wrong_clock_events_are_rejected_and_every_valid_event_is_assigned(tmp_path):
    tr = tracker(tmp_path, hold_arrivals=40)
    outs = [tr.learn(b) for b in interleaved()]
    rows = [r for o in outs for r in o.assignments if r["version"] == 0]
    assert sorted(r["event_id"] for r in rows) == sorted(f"v{i}" for i in range(200))
    rejected = [(ev["id"], why) for o in outs for ev, why in o.rejected]
    assert {i for i, _ in rejected} | {ev["id"] for ev, _ in tr.held["s"].values()} == {
        f"bad{i}" for i in range(9, 200, 10)
    }
    assert all("ahead of the stream's watermark" in why for _, why in rejected)
    assert tr.engines["s"].last_ts == T0 + 60.0 * 199  # the stream's own clock
    assert len(tr.engines["s"].topics()) == 2


def test_held_events_survive_a_checkpoint_and_are_released_by_a_resumed_stream(tmp_path):
    tr = tracker(tmp_path)
    x = posts(centres(1, seed=9)[0], 12, seed=3)
    first = [{"id": f"a{i}", "ts": T0 + i, "text": "quake tremor"} for i in range(6)]
    tr.learn(EmbeddedBatch("s", first, x[:6]))
    later = T0 + 5 * 86400.0
    resumed = [{"id": f"b{i}", "ts": later + i, "text": "quake tremor"} for i in range(3)]
    out = tr.learn(EmbeddedBatch("s", resumed, x[6:9]))
    assert out.assignments == [] and len(tr.held["s"]) == 3
    tr.save()
    again = tracker(tmp_path)
    assert again.load() and len(again.held["s"]) == 3
    assert again.clocks["s"].watermark == T0 + 5
    more = [{"id": f"b{i}", "ts": later + i, "text": "quake tremor"} for i in range(3, 6)]
    out = again.learn(EmbeddedBatch("s", more, x[9:12]))
    # Five arrivals ahead confirm the jump: all six resumed posts are learned now.
    assert sorted(r["event_id"] for r in out.assignments if r["version"] == 0) == [
        f"b{i}" for i in range(6)
    ]
    assert again.held["s"] == {} and again.engines["s"].last_ts == later + 5


def test_too_late_events_are_stored_with_a_topic_but_not_learned(tmp_path):
    tr = tracker(tmp_path)
    x = posts(centres(1, seed=5)[0], 21, seed=6)
    events = [{"id": f"e{i}", "ts": T0 + 60.0 * i, "text": "quake tremor"} for i in range(20)]
    tr.learn(EmbeddedBatch("s", events, x[:20]))
    before = tr.engines["s"].snapshot()
    old = [{"id": "old", "ts": T0 - 30 * 86400.0, "text": "quake tremor"}]
    out = tr.learn(EmbeddedBatch("s", old, x[20:]))
    assert out.too_late == 1 and out.rejected == []
    (row,) = out.assignments
    assert row["event_id"] == "old" and row["ts"] == T0 - 30 * 86400.0
    assert row["topic_id"] == tr.engines["s"].topics()[0].topic_id
    assert tr.engines["s"].snapshot() == before  # the engine learned nothing from it


def test_held_events_of_a_quiet_stream_expire_to_dead_letter_or_resume_it(tmp_path):
    now = [WALL]
    tr = Tracker(
        tmp_path,
        factories=FACTORIES,
        clock=lambda: now[0],
        event_time=EventTimePolicy(hold_wall_s=30),
    )
    x = posts(centres(1, seed=8)[0], 9, seed=9)
    tr.learn(
        EmbeddedBatch("s", [{"id": f"a{i}", "ts": T0 + i, "text": "t"} for i in range(6)], x[:6])
    )
    # A wrong clock, then the stream goes on in its own time: evidence against it.
    bad = [
        {"id": "bad", "ts": T0 + TWO_YEARS, "text": "t"},
        {"id": "a6", "ts": T0 + 7, "text": "t"},
    ]
    tr.learn(EmbeddedBatch("s", bad, x[6:8]))
    assert tr.expire_held() == []
    now[0] += 31
    (out,) = tr.expire_held()
    assert [ev["id"] for ev, _ in out.rejected] == ["bad"] and tr.held["s"] == {}
    assert out.summaries and out.stats  # the API keeps showing the stream's topics
    # The stream resumes three days on with one post, then is quiet: that post is learned.
    later = [{"id": "later", "ts": T0 + 3 * 86400, "text": "t"}]
    assert tr.learn(EmbeddedBatch("s", later, x[8:])).assignments == []
    now[0] += 31
    (out,) = tr.expire_held()
    assert out.rejected == [] and [r["event_id"] for r in out.assignments] == ["later"]
    assert tr.engines["s"].last_ts == T0 + 3 * 86400
