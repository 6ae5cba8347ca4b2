"""Loading labeled streams and replaying them through an engine."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.unit.workers.synthetic import DIM, centres, posts
from workers.engines import make_engine
from workers.evaluation import (
    StreamFormatError,
    load_labeled_stream,
    parse_ts,
    replay,
    score,
    tokenize_stream,
)


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_stream_is_sorted_by_time_and_remembers_file_order(tmp_path: Path) -> None:
    p = write(
        tmp_path / "s.jsonl",
        [
            {"id": "b", "ts": 20, "text": "second", "label": "x"},
            {"id": "a", "ts": "1970-01-01T00:00:10Z", "text": "first", "label": "y"},
        ],
    )
    s = load_labeled_stream(p)
    assert s.ids == ["a", "b"]
    assert s.ts.tolist() == [10.0, 20.0]
    assert s.file_order.tolist() == [1, 0]
    assert s.texts_in_file_order() == ["second", "first"]
    assert len(load_labeled_stream(p, limit=1)) == 1


def test_bad_lines_name_their_line_number(tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text('{"ts": 1, "text": "ok", "label": "a"}\n{"ts": 1, "label": "a"}\n')
    with pytest.raises(StreamFormatError, match=r"bad.jsonl:2"):
        load_labeled_stream(p)
    with pytest.raises(ValueError):
        parse_ts(True)


def test_replay_records_topics_at_processing_time_and_scores() -> None:
    from workers.evaluation import LabeledStream

    c = centres(2, seed=1)
    x = np.concatenate([posts(c[0], 30), posts(c[1], 30, seed=2)])
    labels = ["a"] * 30 + ["b"] * 30
    words = [["flood"] if lab == "a" else ["fire"] for lab in labels]
    stream = LabeledStream(
        ids=[str(i) for i in range(60)],
        ts=np.arange(60.0) * 60,
        texts=[" ".join(w) for w in words],
        labels=labels,
        file_order=np.arange(60),
    )
    eng = make_engine("topictrack", DIM)
    run = replay(eng, x, stream, tokenize_stream(stream), batch_size=2, progress=False)
    assert run.engine_seconds > 0
    # The first four posts wait in the buffer and stay unassigned *at processing time*.
    assert (run.pred[:4] == -1).all() and (run.pred[4:30] == 1).all()
    m = score(eng, stream, tokenize_stream(stream), run)
    assert m["n_docs"] == 60 and m["n_labels"] == 2 and m["n_topics"] == 2
    assert m["bcubed_precision"] == pytest.approx(1.0)
    # 26 of 30 posts per label share a topic; the 4 unassigned ones are singletons.
    assert m["bcubed_recall"] == pytest.approx((26 * 26 + 4) / 900)
    assert m["engine_docs_per_s"] > 0


def test_developments_are_counted_apart_and_one_naming_an_unannounced_event_is_a_miss() -> None:
    from workers.alert_metrics import AlertRecord, alert_scores

    labels = ["a"] * 5 + ["b"] * 5
    ts = np.arange(10, dtype=np.float64)
    records = [
        AlertRecord(2.0, 3, 1, "new", "a", 1, "a words"),
        AlertRecord(4.0, 5, 2, "development", "a", 1, "more a"),  # a sub-story: fine
        AlertRecord(8.0, 9, 3, "development", "b", 1, "b words"),  # event b swallowed: a miss
    ]
    got = alert_scores(records, labels, ts)
    assert got["alerts_total"] == 1 and got["alerts_precision"] == 1.0
    assert got["alerts_recall"] == 0.5  # b was only ever a "development"
    assert got["alerts_developments"] == 2 and got["alerts_developments_unnamed"] == 1
    row = records[1].to_dict()
    assert row["kind"] == "development" and row["story_id"] == 1 and row["names_label"] == "a"
