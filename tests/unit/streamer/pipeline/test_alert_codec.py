"""The alerts topic: one schema-checked JSON object per message, stored by the sink."""

from __future__ import annotations

import json

import pytest

from streamer.pipeline.agents.sink import rows_by_table
from streamer.pipeline.codec import CodecError, decode_alert, encode_alert
from streamer.store.tables import ALERTS
from tests.alert_fixtures import make_alert


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
