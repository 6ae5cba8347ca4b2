from __future__ import annotations

import numpy as np
import pytest

from streamer.pipeline.checkpoint import CheckpointError
from streamer.pipeline.codec import EmbeddedBatch
from streamer.pipeline.tracker import Tracker
from workers.topic_types import LateAssignment

A = np.array([1, 0, 0, 0], np.float32)
B = np.array([0, 1, 0, 0], np.float32)


def batch(vectors, start=0, stream="s"):
    events = [
        {"id": f"d{start + i}", "ts": 100.0 + start + i, "text": f"text {start + i}", "lang": "en"}
        for i in range(len(vectors))
    ]
    return EmbeddedBatch(stream, events, np.stack(vectors))


def test_rows_late_assignments_and_topics(tmp_path, stand_in_factories):
    tr = Tracker(tmp_path, engine="stand-in", factories=stand_in_factories)
    out = tr.learn(batch([A, A, A]))
    v0 = [r for r in out.assignments if r["version"] == 0]
    v1 = [r for r in out.assignments if r["version"] == 1]
    assert [r["event_id"] for r in v0] == ["d0", "d1", "d2"]
    # d0 waited, d1 founded a topic with it (both late), d2 joined directly.
    assert [r["topic_id"] for r in v0] == [-1, -1, 0]
    assert sorted(r["event_id"] for r in v1) == ["d0", "d1"]
    assert all(r["topic_id"] == 0 and r["text"].startswith("text") for r in v1)
    assert v0[2]["topk_ids"] == [0] and v0[2]["topk_probs"] == [1.0]
    assert v0[0]["topk_ids"] == []  # UNASSIGNED padding is dropped
    assert [t["topic_id"] for t in out.topics] == [0]
    assert out.topics[0]["merged_into"] is None and len(out.topics[0]["centroid"]) == 4
    assert out.summaries[0]["keywords"] == ["kw0"]
    assert out.late == 2 and out.late_unknown == 0
    assert tr.pending["s"] == {}


def test_streams_get_their_own_engines(tmp_path, stand_in_factories):
    tr = Tracker(tmp_path, factories=stand_in_factories)
    tr.learn(batch([A, A], stream="x"))
    tr.learn(batch([B, B], stream="y"))
    assert set(tr.engines) == {"x", "y"}
    assert tr.engines["x"].topic(0).topic_id == tr.engines["y"].topic(0).topic_id == 0


def test_checkpoint_round_trip_and_offsets(tmp_path, stand_in_factories):
    tr = Tracker(tmp_path, engine="stand-in", factories=stand_in_factories)
    tr.learn(batch([A, A, B]))  # B waits in the buffer
    tr.mark("embedded", 0, 7)
    tr.mark("embedded", 0, 5)
    gen = tr.save()
    assert gen == 1 and tr.save() == 2
    assert len(list((tmp_path / "p0").glob("engine-*.bin"))) == 1

    again = Tracker(tmp_path, engine="stand-in", factories=stand_in_factories)
    assert again.load()
    assert again.covered("embedded", 0, 7) and not again.covered("embedded", 0, 8)
    assert list(again.pending["s"]) == ["d2"]
    # the waiting doc's late assignment after the restart still has its row
    out = again.learn(batch([B], start=3))
    late = [r for r in out.assignments if r["version"] == 1]
    assert {r["event_id"] for r in late} == {"d2", "d3"}
    assert next(r for r in late if r["event_id"] == "d2")["text"] == "text 2"

    fresh = Tracker(tmp_path, engine="stand-in", factories=stand_in_factories, broker_epoch="b2")
    assert fresh.load() and list(fresh.pending["s"]) == ["d2"]
    assert not fresh.covered("embedded", 0, 0)


def test_checkpoint_for_another_engine_is_refused(tmp_path, stand_in_factories):
    tr = Tracker(tmp_path, engine="a", factories=stand_in_factories)
    tr.learn(batch([A]))
    tr.save()
    with pytest.raises(CheckpointError, match="for engine 'a'"):
        Tracker(tmp_path, engine="b", factories=stand_in_factories).load()


def test_corrupt_snapshot_detected(tmp_path, stand_in_factories):
    tr = Tracker(tmp_path, factories=stand_in_factories)
    tr.learn(batch([A]))
    tr.save()
    blob = next((tmp_path / "p0").glob("engine-*.bin"))
    blob.write_bytes(blob.read_bytes() + b"x")
    with pytest.raises(CheckpointError):
        Tracker(tmp_path, factories=stand_in_factories).load()


def test_dimension_change_is_an_error(tmp_path, stand_in_factories):
    tr = Tracker(tmp_path, factories=stand_in_factories)
    tr.learn(batch([A]))
    with pytest.raises(ValueError, match="dim"):
        tr.learn(EmbeddedBatch("s", [{"id": "z", "ts": 1, "text": "t"}], np.ones((1, 3), "f4")))


def test_pending_rows_are_bounded(tmp_path, stand_in_factories):
    tr = Tracker(
        tmp_path,
        factories=(lambda n, dim, **k: stand_in_factories[0](n, dim, birth=10**6), None),
        max_pending=3,
    )
    tr.learn(batch([A, B, A, B, A]))
    assert list(tr.pending["s"]) == ["d2", "d3", "d4"]


def _take_back(engine, doc_id: str, topic_id: int) -> None:
    """Make the next batch also move ``doc_id`` to ``topic_id`` (a newborn topic's take-back)."""
    learn = engine.learn_many

    def learn_and_take_back(*args, **kwargs):
        res = learn(*args, **kwargs)
        res.late.append(LateAssignment([doc_id], topic_id, np.array([0.9], np.float32)))
        del engine.learn_many  # once; and snapshots must not pickle the wrapper
        return res

    engine.learn_many = learn_and_take_back


def test_a_taken_back_document_is_rewritten_with_a_higher_version(tmp_path, stand_in_factories):
    tr = Tracker(tmp_path, engine="stand-in", factories=stand_in_factories)
    tr.learn(batch([A, A, A]))  # d0, d1 late (version 1); d2 joined directly (version 0)
    _take_back(tr.engines["s"], "d2", 7)
    out = tr.learn(batch([A], start=3))
    [row] = [r for r in out.assignments if r["event_id"] == "d2"]
    assert (row["topic_id"], row["version"], row["text"]) == (7, 1, "text 2")
    assert out.late_unknown == 0
    # The rows survive a checkpoint; each further move is a higher version.
    tr.save()
    again = Tracker(tmp_path, engine="stand-in", factories=stand_in_factories)
    assert again.load()
    _take_back(again.engines["s"], "d2", 8)
    out = again.learn(batch([A], start=4))
    assert [(r["topic_id"], r["version"]) for r in out.assignments if r["event_id"] == "d2"] == [
        (8, 2)
    ]
    _take_back(again.engines["s"], "d0", 9)  # born from the buffer (version 1) -> 2
    out = again.learn(batch([A], start=5))
    assert [(r["topic_id"], r["version"]) for r in out.assignments if r["event_id"] == "d0"] == [
        (9, 2)
    ]


def test_state_moves_with_its_partition_between_trackers(tmp_path, stand_in_factories):
    """Two track workers share one checkpoint store: a partition's streams follow it."""
    one = Tracker(tmp_path, engine="stand-in", factories=stand_in_factories)
    one.learn(batch([A, A, A], stream="x"), partition=0)
    one.learn(batch([B, B], stream="y"), partition=1)
    one.mark("embedded", 0, 4)
    one.mark("embedded", 1, 9)
    one.save([1])
    assert one.drop([1]) == ["y"] and set(one.engines) == {"x"}
    assert not one.covered("embedded", 1, 9) and one.covered("embedded", 0, 4)

    two = Tracker(tmp_path, engine="stand-in", factories=stand_in_factories)
    two.ensure(1)  # partition 1 was assigned to this worker
    assert set(two.engines) == {"y"} and two.partition_of == {"y": 1}
    assert two.covered("embedded", 1, 9) and not two.covered("embedded", 0, 0)
    # The stream continues with its topics: the next post joins topic 0, no rebirth.
    out = two.learn(batch([B], start=2, stream="y"), partition=1)
    assert [r["topic_id"] for r in out.assignments] == [0]
    assert two.engines["y"].sizes == [3]
    assert two.save() == 2  # partition 1's second generation


def test_saving_a_partition_not_held_here_never_overwrites_its_checkpoint(
    tmp_path, stand_in_factories
):
    """A rebalance hands partition 1 to another worker before this one loads or drops
    it: asking to save it must leave the owner's checkpoint as it was."""
    owner = Tracker(tmp_path, engine="stand-in", factories=stand_in_factories)
    owner.learn(batch([B, B], stream="y"), partition=1)
    owner.mark("embedded", 1, 9)
    assert owner.save([1]) == 1
    newcomer = Tracker(tmp_path, engine="stand-in", factories=stand_in_factories)
    newcomer.mark("embedded", 1, 40)  # a stray offset of a message it skipped
    assert newcomer.save([0, 1]) == 0  # holds neither partition: writes nothing
    again = Tracker(tmp_path, engine="stand-in", factories=stand_in_factories)
    again.ensure(1)
    assert set(again.engines) == {"y"}
    assert again.covered("embedded", 1, 9) and not again.covered("embedded", 1, 10)


def test_a_checkpoint_from_before_partitions_loads_as_partition_0(tmp_path, stand_in_factories):
    from streamer.pipeline import checkpoint

    tr = Tracker(tmp_path / "new", engine="stand-in", factories=stand_in_factories)
    tr.learn(batch([A, A]))
    tr.mark("embedded", 0, 3)
    tr.save()
    state = checkpoint.load(tmp_path / "new" / "p0")
    checkpoint.save(tmp_path / "old", state)  # the old layout: files in the root
    old = Tracker(tmp_path / "old", engine="stand-in", factories=stand_in_factories)
    assert old.checkpoints.partitions() == [0] and old.load()
    assert old.covered("embedded", 0, 3) and set(old.engines) == {"s"}
    old.save()
    assert not (tmp_path / "old" / "state.json").exists()
    assert (tmp_path / "old" / "p0" / "state.json").exists()
