"""The tracker raises alerts next to each engine, and its checkpoints carry the detectors."""

from __future__ import annotations

import logging

import numpy as np

from streamer.pipeline import checkpoint
from streamer.pipeline.codec import EmbeddedBatch
from streamer.pipeline.tracker import Tracker
from tests.unit.workers.synthetic import centres, posts, texts_for
from workers.engines import make_engine, restore_engine

HOUR = 3600.0
T0 = 1_700_000_000.0
#: The wall clock of these tests: after the stream (alerts carry it as created_at).
WALL = T0 + 30 * 86400.0
FACTORIES = (make_engine, restore_engine)
#: Each story's own words (the detector takes shared top keywords for a retold story).
WORDS = (
    ["quake", "magnitude", "tremor", "epicentre", "aftershock"],
    ["strike", "union", "rail", "pay", "walkout"],
    ["vote", "ballot", "election", "polls", "candidate"],
)


def _batches(stream: str = "s") -> list[EmbeddedBatch]:
    """Two stories appear and burst: each gets a "new" alert."""
    c = centres(3, seed=21)
    out = []
    for k, (centre, words) in enumerate(zip(c, WORDS, strict=False)):
        x = posts(centre, 40, seed=10 + k)
        ts = T0 + k * 2 * HOUR + 45.0 * np.arange(40)
        texts = texts_for(words, 40, seed=k)
        for s in range(0, 40, 5):
            events = [
                {"id": f"{stream}-{k}-{s + i}", "ts": float(t), "text": texts[s + i]}
                for i, t in enumerate(ts[s : s + 5])
            ]
            out.append(EmbeddedBatch(stream, events, x[s : s + 5]))
    return out


def _tracker(path) -> Tracker:
    return Tracker(path, factories=FACTORIES, clock=lambda: WALL)


def _ids(outs) -> list[str]:
    return [a["alert_id"] for o in outs for a in o.alerts]


def test_alerts_come_out_with_the_rows(tmp_path):
    tr = _tracker(tmp_path)
    outs = [tr.learn(b) for b in _batches()]
    alerts = [a for o in outs for a in o.alerts]
    assert [a["kind"] for a in alerts] == ["new", "new", "new"]
    assert [a["topic_id"] for a in alerts] == [1, 2, 3]
    assert all(a["stream"] == "s" and a["created_at"] == WALL for a in alerts)
    assert set(tr.detectors) == {"s"}


def test_a_restart_from_a_checkpoint_neither_loses_nor_repeats_alerts(tmp_path):
    batches = _batches()
    tr = _tracker(tmp_path / "a")
    straight = _ids([tr.learn(b) for b in batches])
    assert len(straight) == 3

    # Graceful: checkpoint after batch 12, restart, go on.
    tr = _tracker(tmp_path / "b")
    first = [tr.learn(b) for b in batches[:12]]
    tr.save()
    tr2 = _tracker(tmp_path / "b")
    assert tr2.load()
    rest = [tr2.learn(b) for b in batches[12:]]
    assert _ids(first) + _ids(rest) == straight

    # Crash: checkpoint after batch 6, alerts published up to batch 20, then the
    # process dies. Kafka redelivers 6..20: the same alerts come again with the
    # same ids (the alerts table and consumers dedupe on them), none is lost.
    tr = _tracker(tmp_path / "c")
    before = _ids([tr.learn(b) for b in batches[:6]])
    tr.save()
    published = _ids([tr.learn(b) for b in batches[6:20]])
    assert published, "the crash must cut off published alerts"
    tr3 = _tracker(tmp_path / "c")
    tr3.load()
    again = _ids([tr3.learn(b) for b in batches[6:]])
    assert again[: len(published)] == published
    assert before + again == straight


def test_old_checkpoint_without_alert_state_starts_alerting_afresh(tmp_path, caplog):
    tr = _tracker(tmp_path)
    for b in _batches()[:3]:
        tr.learn(b)
    tr.save()
    state = checkpoint.load(tmp_path / "p0")
    state.detectors = {}  # as written before alerts existed
    checkpoint.save(tmp_path / "p0", state)
    tr2 = _tracker(tmp_path)
    with caplog.at_level(logging.WARNING):
        assert tr2.load()
    assert "no alert state" in caplog.text
    assert tr2.detectors == {}
    tr2.learn(_batches()[3])
    assert set(tr2.detectors) == {"s"}


def test_a_failing_detector_does_not_stop_the_stream(tmp_path):
    tr = _tracker(tmp_path)

    class Broken:
        def observe(self, *a):
            raise RuntimeError("boom")

    tr.detectors["s"] = Broken()
    out = tr.learn(_batches()[0])
    assert out.alert_errors == 1 and out.alerts == [] and len(out.assignments) == 5
