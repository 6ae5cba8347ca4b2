from __future__ import annotations

import json

import pytest

from streamer.pipeline.agents.embed import split_valid, wire_event
from streamer.pipeline.agents.sink import insert_resilient, rows_by_table
from streamer.pipeline.codec import dead_letter_headers, encode_rows
from streamer.store import StoreError, TransientStoreError


def test_split_valid_groups_by_stream_in_order():
    raws = [
        (json.dumps({"id": "1", "ts": 1, "text": "a", "stream": "x"}).encode(), "t1"),
        (b"{", "t2"),
        (json.dumps({"id": "2", "ts": 2, "text": "b"}).encode(), "t3"),
        (json.dumps({"id": "3", "ts": 3, "text": "c", "stream": "x"}).encode(), "t4"),
        (None, "t5"),
    ]
    good, bad = split_valid(raws)
    assert {s: [t for _, t in v] for s, v in good.items()} == {"x": ["t1", "t4"], "default": ["t3"]}
    assert [t for _, _, t in bad] == ["t2", "t5"]
    assert wire_event(good["x"][0][0]) == {
        "id": "1",
        "ts": 1.0,
        "text": "a",
        "user_id": "",
        "lang": "",
        "source": "",
    }


def test_rows_by_table_routes_and_rejects_undecodable():
    msgs = [
        ("assignments", 0, 1, encode_rows([{"event_id": "a"}, {"event_id": "b"}]), []),
        ("topic-updates", 0, 1, encode_rows([{"topic_id": 1}]), []),
        ("dead-letter", 0, 9, b"raw", dead_letter_headers("r", "validate", "events", 0, 3)),
        ("assignments", 0, 2, b"garbage", []),
        ("unknown-topic", 0, 0, b"", []),
    ]
    tables, bad = rows_by_table(msgs)
    assert [r["event_id"] for r, _ in tables["events"]] == ["a", "b"]
    assert tables["events"][0][1] == ("assignments", 0, 1)
    assert tables["topics"][0][0] == {"topic_id": 1}
    assert tables["dead_letters"][0][0]["source_offset"] == 3
    assert len(bad) == 1 and bad[0]["stage"] == "sink" and bad[0]["raw"] == "garbage"


class PickyStore:
    """Rejects any batch containing a row whose event_id starts with 'bad'."""

    def __init__(self, transient=False):
        self.inserted = []
        self.calls = 0
        self.transient = transient

    def insert(self, table, rows):
        self.calls += 1
        if self.transient:
            raise TransientStoreError("down")
        if any(r["event_id"].startswith("bad") for r in rows):
            raise StoreError("Cannot parse")
        self.inserted.extend(rows)
        return len(rows)


def test_bisection_isolates_bad_rows():
    rows = [({"event_id": f"e{i}"}, ("assignments", 0, i)) for i in range(10)]
    rows[3] = ({"event_id": "bad3"}, ("assignments", 0, 3))
    rows[8] = ({"event_id": "bad8"}, ("assignments", 0, 8))
    store = PickyStore()
    inserted, rejected = insert_resilient(store, "events", rows)
    assert len(inserted) == 8 and len(store.inserted) == 8
    assert sorted(r["source_offset"] for r in rejected) == [3, 8]
    assert all("Cannot parse" in r["reason"] for r in rejected)


def test_transient_errors_propagate_without_rejecting():
    store = PickyStore(transient=True)
    with pytest.raises(TransientStoreError):
        insert_resilient(store, "events", [({"event_id": "e"}, ("a", 0, 0))])
    assert store.calls == 1
