"""Alert I/O without a broker: durations, --alert-params, the alerts codec, the sink's
decoding, the dashboard lines and the API's payloads."""

from __future__ import annotations

import argparse
import json
from types import SimpleNamespace

import pytest

from streamer.agents.sink import rows_by_table
from streamer.alert_params import alert_settings
from streamer.api import BadRequest, alerts_payload, trending_payload
from streamer.codec import CodecError, decode_alert, encode_alert
from streamer.config import ConfigError
from streamer.dashboard import render_alerts
from streamer.durations import duration_arg, format_duration, parse_duration
from streamer.runtime import Runtime
from streamer.store.tables import ALERTS
from workers.alerts import Alert, AlertSettings


def make_alert(i: int = 1, kind: str = "new", end: float = 1_741_940_000.0) -> dict:
    return Alert(
        alert_id=f"a{i}",
        stream="default",
        topic_id=i,
        kind=kind,
        score=3.5,
        window_start=end - 3600,
        window_end=end,
        first_seen=end - 7200,
        size=25,
        keywords=["phone", "nova"],
        label="phone · nova",
        examples=["Leaked photos of the Nova phone"],
        created_at=1_800_000_000.0,
    ).to_dict()


def test_durations():
    assert parse_duration("15m") == 900 and parse_duration("1h30m") == 5400
    assert parse_duration("2d") == 172800 and parse_duration(" 90S ") == 90
    assert parse_duration("0.5h") == 1800 and parse_duration("1w") == 7 * 86400
    for bad, why in (("15", "unit is required"), ("15x", "bad duration"), ("", "empty")):
        with pytest.raises(ValueError, match=why):
            parse_duration(bad)
    with pytest.raises(ValueError, match="longer than zero"):
        parse_duration("0m")
    with pytest.raises(argparse.ArgumentTypeError, match=r"e\.g\. 90s"):
        duration_arg("m15")
    assert [format_duration(s) for s in (900, 5400, 86400, 61, 0)] == [
        "15m",
        "1h30m",
        "1d",
        "1m1s",
        "0s",
    ]


def test_alert_params_are_checked_with_clear_errors():
    assert alert_settings({}) == AlertSettings()
    s = alert_settings({"new_min_docs": 20.0, "burst_score": 8})
    assert s.new_min_docs == 20 and isinstance(s.new_min_docs, int) and s.burst_score == 8.0
    with pytest.raises(ConfigError, match=r"unknown setting.*new_min_dox.*known: .*new_min_docs"):
        alert_settings({"new_min_dox": 3})
    with pytest.raises(ConfigError, match="new_min_docs must be an integer"):
        alert_settings({"new_min_docs": 2.5})
    with pytest.raises(ConfigError, match="cooldown_s must be a number"):
        alert_settings({"cooldown_s": "1h"})
    with pytest.raises(ConfigError, match="must be a number"):
        alert_settings({"burst_score": True})
    with pytest.raises(ConfigError, match="hysteresis"):
        alert_settings({"burst_score": 1.0})


def test_alert_messages_round_trip_and_are_validated():
    a = make_alert()
    assert decode_alert(encode_alert(a)) == a
    for raw, why in (
        (b"{nope", "not JSON"),
        (b"[1]", "not a JSON object"),
        (json.dumps({**a, "kind": "boom"}).encode(), "kind"),
        (json.dumps({k: v for k, v in a.items() if k != "size"}).encode(), "size"),
        (json.dumps({**a, "surprise": 1}).encode(), "surprise"),
    ):
        with pytest.raises(CodecError, match=why):
            decode_alert(raw)


def test_sink_reads_one_alert_per_message_and_dead_letters_bad_ones():
    good = encode_alert(make_alert(1))
    tables, bad = rows_by_table(
        [("alerts", 0, 5, good, []), ("alerts", 0, 6, b'{"alert_id": "x"}', [])]
    )
    assert [r["alert_id"] for r, _ in tables["alerts"]] == ["a1"]
    assert tables["alerts"][0][1] == ("alerts", 0, 5)
    assert len(bad) == 1 and bad[0]["source_offset"] == 6 and "alert" in bad[0]["reason"]
    row = ALERTS.convert(make_alert(1), now=1)
    assert row["size"] == 25 and row["extra"] == "{}" and row["window_end"] == 1_741_940_000
    assert ALERTS.convert({**make_alert(1), "extra": {"b": 1, "a": "é"}})["extra"] == (
        '{"a": "é", "b": 1}'
    )


def test_dashboard_alert_lines():
    assert render_alerts([]) == ["alerts: none yet"]
    alerts = [
        make_alert(i, "burst" if i == 2 else "new", 1_741_940_000 + 60 * i) for i in (3, 1, 2)
    ]
    lines = render_alerts(alerts, last=2)
    assert lines[0] == "alerts: 3 (1 burst, 2 new); latest:"
    assert "burst" in lines[1] and "topic    2" in lines[1] and "topic    3" in lines[2]
    assert "phone · nova | phone, nova" in lines[2] and len(lines) == 3


def test_api_payloads_without_a_store_use_the_workers_own_alerts():
    rt = Runtime(agents=frozenset({"track"}))
    rt.alerts.extend(
        [make_alert(1, end=1000.0), make_alert(2, "burst", end=5000.0), make_alert(3, end=8000.0)]
    )
    p = SimpleNamespace(store=None, runtime=rt)
    body = alerts_payload(p, {})
    assert body["source"] == "engine" and [a["topic_id"] for a in body["alerts"]] == [1, 2, 3]
    assert [a["topic_id"] for a in alerts_payload(p, {"since": "30m"})["alerts"]] == [3]
    assert [a["topic_id"] for a in alerts_payload(p, {"kind": "burst"})["alerts"]] == [2]
    assert [a["topic_id"] for a in alerts_payload(p, {"limit": "2"})["alerts"]] == [2, 3]
    with pytest.raises(BadRequest, match="duration"):
        alerts_payload(p, {"since": "yesterday"})
    with pytest.raises(BadRequest, match="kind"):
        alerts_payload(p, {"kind": "boom"})
    with pytest.raises(LookupError, match="no store"):
        trending_payload(p, {})
    p.store = object()
    with pytest.raises(BadRequest, match="whole number"):
        trending_payload(p, {"window": "90s"})
