"""Property-based: any bytes at all end as a valid Event or a clear InvalidEvent.

The fault harness (bench/faults.py) sends hostile messages to a real worker;
these cover the same input space without a broker: random bytes, invalid
UTF-8, any JSON value, deep nesting, huge texts, NaN/inf and out-of-range
times, control characters and markup.
"""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import MAX_DATETIME
from streamer.validation import MAX_MESSAGE_BYTES, InvalidEvent, validate_bytes

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
texts = st.text(min_size=1).filter(lambda t: t.strip() != "")
times = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(2**40), 2**40)


def outcome(raw: bytes) -> str:
    """``"ok"`` or ``"invalid"``; anything else (another exception) fails the test."""
    try:
        validate_bytes(raw)
    except InvalidEvent as exc:
        assert str(exc), "a reason is always given"
        return "invalid"
    return "ok"


@given(st.binary(max_size=2000))
def test_any_bytes_validate_or_are_rejected_with_a_reason(raw: bytes) -> None:
    outcome(raw)


@given(json_values)
def test_any_json_value_validates_or_is_rejected(value: object) -> None:
    outcome(json.dumps(value).encode())


@given(
    st.text(min_size=1, max_size=600),
    times,
    texts,
    st.dictionaries(st.sampled_from(["stream", "user_id", "lang", "source", "meta"]), json_values),
)
def test_events_with_any_field_values(id_: str, ts: float, text: str, extra: dict) -> None:
    raw = json.dumps({"id": id_, "ts": ts, "text": text, **extra}).encode()
    if outcome(raw) == "ok":
        e = validate_bytes(raw)
        assert e.id == id_ and e.text == text
        assert math.isfinite(e.ts) and 0 <= e.ts <= MAX_DATETIME
        assert len(e.id) <= 512 and len(e.user_id) <= 256 and 1 <= len(e.stream) <= 200


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 200_000), st.sampled_from(["[", '{"a":']))
def test_deep_nesting_is_rejected_not_a_crash(depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    meta = opener * depth + "1" + closer * depth
    raw = ('{"id": "x", "ts": 1, "text": "t", "meta": ' + meta + "}").encode()
    outcome(raw)


def test_huge_texts_and_messages_are_rejected_before_parsing() -> None:
    big = json.dumps({"id": "x", "ts": 1, "text": "a" * 100_001}).encode()
    assert outcome(big) == "invalid"
    huge = b'{"id": "x", "ts": 1, "text": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    try:
        validate_bytes(huge)
    except InvalidEvent as exc:
        assert f"larger than {MAX_MESSAGE_BYTES:,}" in str(exc)
    else:
        raise AssertionError("a 10 MB message was accepted")


@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), min_size=1))
def test_control_characters_and_markup_are_kept_verbatim(ctrl: str) -> None:
    text = f"<script>alert(1)</script>'; DROP TABLE events; --{ctrl}x"
    e = validate_bytes(json.dumps({"id": "x", "ts": 1, "text": text}).encode())
    assert e.text == text
