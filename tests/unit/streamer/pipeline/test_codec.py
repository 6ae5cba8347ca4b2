from __future__ import annotations

import json

import numpy as np
import pytest

from streamer.pipeline.codec import (
    CodecError,
    EmbeddedBatch,
    dead_letter_headers,
    dead_letter_row,
    decode_embedded,
    decode_rows,
    decode_vectors,
    encode_embedded,
    encode_row_messages,
    encode_vectors,
    split_embedded,
)


def batch(n: int = 3, dim: int = 5) -> EmbeddedBatch:
    rng = np.random.default_rng(0)
    events = [{"id": f"e{i}", "ts": 1.0 + i, "text": f"t{i} é"} for i in range(n)]
    return EmbeddedBatch("s1", events, rng.standard_normal((n, dim)).astype(np.float32))


def test_vectors_round_trip_exactly():
    v = np.random.default_rng(1).standard_normal((4, 384)).astype(np.float32)
    assert np.array_equal(decode_vectors(encode_vectors(v), 4, 384), v)


def test_vectors_size_is_checked():
    with pytest.raises(CodecError):
        decode_vectors(encode_vectors(np.zeros((2, 3), np.float32)), 2, 4)
    with pytest.raises(CodecError):
        decode_vectors("not base64!!", 1, 1)


def test_embedded_round_trip():
    b = batch()
    out = decode_embedded(encode_embedded(b))
    assert out.stream == "s1"
    assert out.events == b.events
    assert np.array_equal(out.vectors, b.vectors)


@pytest.mark.parametrize(
    "raw",
    [
        b"nope",
        b"[]",
        json.dumps({"v": 99}).encode(),
        json.dumps({"v": 1, "stream": "s", "n": 2, "dim": 1, "events": [], "vectors": ""}).encode(),
    ],
)
def test_bad_embedded_messages(raw):
    with pytest.raises(CodecError):
        decode_embedded(raw)


def test_split_embedded_keeps_order():
    parts = split_embedded(batch(n=7), limit=3)
    assert [len(p) for p in parts] == [3, 3, 1]
    assert [e["id"] for p in parts for e in p.events] == [f"e{i}" for i in range(7)]


def test_rows_messages():
    rows = [{"event_id": str(i)} for i in range(5)]
    msgs = encode_row_messages(rows, limit=2)
    assert len(msgs) == 3
    assert [r for m in msgs for r in decode_rows(m)] == rows
    with pytest.raises(CodecError):
        decode_rows(json.dumps({"v": 1, "rows": [1]}).encode())


def test_dead_letter_row_from_headers():
    h = dead_letter_headers("bad ts", "validate", "events", 2, 41)
    row = dead_letter_row(b"{\xff", h)
    assert row == {
        "reason": "bad ts",
        "stage": "validate",
        "raw": "{\\xff",
        "source_topic": "events",
        "source_partition": 2,
        "source_offset": 41,
    }
    assert dead_letter_row(b"x", None)["reason"] == "unknown"
