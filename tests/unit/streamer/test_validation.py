from __future__ import annotations

import json

import pytest

from streamer.validation import InvalidEvent, parse_ts, raw_text, validate_bytes


def ev(**kw) -> bytes:
    base = {"id": "e1", "ts": 1700000000, "text": "hello world"}
    base.update(kw)
    return json.dumps({k: v for k, v in base.items() if v is not ...}).encode()


def test_minimal_event_gets_defaults():
    e = validate_bytes(ev())
    assert (e.id, e.ts, e.text, e.stream, e.user_id, e.meta) == (
        "e1",
        1700000000.0,
        "hello world",
        "default",
        "",
        {},
    )


def test_optional_fields_and_extra_properties_are_kept_or_ignored():
    e = validate_bytes(
        ev(stream="news", user_id="u1", lang="en", source="x", meta={"a": 1}, label="L")
    )
    assert (e.stream, e.user_id, e.lang, e.source, e.meta) == ("news", "u1", "en", "x", {"a": 1})


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        ("2023-11-14T22:13:20Z", 1700000000.0),
        ("2023-11-14T22:13:20", 1700000000.0),  # naive = UTC
        ("2023-11-14T23:13:20+01:00", 1700000000.0),
        ("1700000000.5", 1700000000.5),
        (1700000000.25, 1700000000.25),
    ],
)
def test_ts_forms(ts, expected):
    assert validate_bytes(ev(ts=ts)).ts == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"{not json", "not JSON"),
        (b"", "empty"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "not of type 'object'"),
        (ev(text=...), "'text' is a required property"),
        (ev(id=...), "'id' is a required property"),
        (ev(ts=...), "'ts' is a required property"),
        (ev(id=5), "id:"),
        (ev(id=""), "id:"),
        (ev(text=""), "text:"),
        (ev(text="   \n"), "text:"),
        (ev(text=["a"]), "text:"),
        (ev(ts="tomorrow"), "ts: not epoch seconds"),
        (ev(ts=True), "ts:"),
        (ev(ts=None), "ts:"),
        (ev(ts=-1), "outside"),
        (ev(ts=5e9), "outside"),
        (ev(stream=""), "stream:"),
        (ev(meta="x"), "meta:"),
        (ev(user_id=3), "user_id:"),
        (ev(user_id="u" * 257), "user_id: longer than 256 characters"),
    ],
)
def test_invalid_events_have_reasons(raw, fragment):
    with pytest.raises(InvalidEvent) as info:
        validate_bytes(raw)
    assert fragment in str(info.value)


def test_nan_ts_rejected():
    with pytest.raises(InvalidEvent):
        parse_ts(float("nan"))


def test_raw_text_keeps_bad_bytes_visible():
    assert raw_text(b"ok \xff") == "ok \\xff"
    assert raw_text("already text") == "already text"
