"""Property-based: the internal wire formats round-trip, and any bytes decode or fail cleanly."""

from __future__ import annotations

import contextlib

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from streamer.pipeline.codec import (
    CodecError,
    EmbeddedBatch,
    dead_letter_headers,
    dead_letter_row,
    decode_alert,
    decode_embedded,
    decode_rows,
    encode_embedded,
    encode_rows,
    split_embedded,
)

event = st.fixed_dictionaries(
    {"id": st.text(min_size=1), "ts": st.floats(0, 4e9), "text": st.text()},
    optional={"user_id": st.text(), "lang": st.text(max_size=5)},
)


@given(st.data(), st.integers(1, 40), st.integers(1, 8))
def test_embedded_batches_round_trip_exactly(data, n: int, dim: int) -> None:
    events = data.draw(st.lists(event, min_size=n, max_size=n))
    vectors = data.draw(arrays(np.float32, (n, dim), elements=st.floats(-1, 1, width=32)))
    batch = EmbeddedBatch("s", events, vectors)
    parts = split_embedded(batch, limit=7)
    back = [decode_embedded(encode_embedded(p)) for p in parts]
    assert [e for b in back for e in b.events] == events
    np.testing.assert_array_equal(np.concatenate([b.vectors for b in back]), vectors)


@given(st.binary(max_size=3000))
def test_any_bytes_decode_or_raise_codec_error(raw: bytes) -> None:
    for decode in (decode_embedded, decode_rows, decode_alert):
        with contextlib.suppress(CodecError):  # anything else fails the test
            decode(raw)


@given(st.lists(st.dictionaries(st.text(), st.integers() | st.text()), max_size=5))
def test_rows_round_trip(rows) -> None:
    assert decode_rows(encode_rows(rows)) == rows


@given(
    st.binary(max_size=500) | st.none(),
    st.lists(st.tuples(st.text(max_size=20), st.binary(max_size=40)), max_size=6),
    st.text(),
    st.integers(-1, 2**31),
)
def test_any_dead_letter_message_becomes_a_row(value, headers, reason, offset) -> None:
    row = dead_letter_row(value, headers)
    assert set(row) == {
        "reason",
        "stage",
        "raw",
        "source_topic",
        "source_partition",
        "source_offset",
    }
    own = dead_letter_row(value, dead_letter_headers(reason, "track", "embedded", 3, offset))
    assert own["reason"] == reason and own["source_offset"] == offset
