"""HTTP ingest bodies: one event, an array, or NDJSON, each checked as produce checks."""

from __future__ import annotations

import json

import pytest

from streamer.api.ingest import MAX_EVENTS, BodyError, split_body


def ev(i: int, **kw) -> dict:
    return {"id": f"e{i}", "ts": 1_700_000_000 + i, "text": f"text {i}", **kw}


def test_one_event_an_array_and_ndjson():
    one = split_body(json.dumps(ev(1, stream="s")).encode())
    assert one.ids == ["e1"] and one.accepted[0][0] == "s"
    arr = split_body(json.dumps([ev(1), {"id": "x"}, ev(3)]).encode())
    assert arr.ids == ["e1", "e3"]
    assert arr.rejected == [{"index": 1, "reason": "event: 'ts' is a required property"}]
    pretty = split_body(json.dumps(ev(5), indent=2).encode())  # one object over many lines
    assert pretty.ids == ["e5"] and not pretty.rejected
    nd = split_body(b"\n".join([json.dumps(ev(1)).encode(), b"{broken", b"", b'"str"']))
    assert nd.ids == ["e1"]
    assert [r["line"] for r in nd.rejected] == [2, 4]
    assert nd.rejected[0]["reason"].startswith("not JSON")
    assert (
        split_body(b'{"id":"u","ts":1,"text":"\xff"}').rejected[0]["reason"].startswith("not UTF-8")
    )


def test_the_body_is_bounded():
    with pytest.raises(BodyError) as exc:
        split_body(b" " * (1024 * 1024 + 1))
    assert exc.value.status == 413
    with pytest.raises(BodyError) as exc:
        split_body(json.dumps([ev(i) for i in range(MAX_EVENTS + 1)]).encode())
    assert exc.value.status == 413
    with pytest.raises(BodyError, match="empty body"):
        split_body(b"  \n")
