"""The terminal tables of topics and alerts, rendered to plain text as a log sees them."""

from __future__ import annotations

import io

from streamer.cli.live_table import LiveTable, alerts_table, to_text, topics_table, view
from tests.alert_fixtures import make_alert


def test_topics_table_orders_by_weight_and_counts_the_rest():
    topics = [
        {"topic_id": 2, "size": 5, "weight": 1.0, "keywords": ["b"], "status": "active"},
        {"topic_id": 1, "size": 9, "weight": 3.0, "keywords": ["a", "x"], "status": "dormant"},
    ]
    lines = to_text(topics_table(topics, {1: 4}, title="H", limit=1)).splitlines()
    assert lines[0].strip() == "H"
    row = lines[2].split()
    assert row[:4] == ["1", "9", "4", "dormant"] and "a, x" in lines[2]
    assert "1 more topic" in lines[-1]
    assert "no topics yet" in to_text(topics_table([]))


def test_alerts_table_shows_the_newest_with_counts_by_kind():
    assert to_text(alerts_table([])).strip() == "alerts: none yet"
    alerts = [
        make_alert(i, "burst" if i == 2 else "new", 1_741_940_000 + 60 * i) for i in (3, 1, 2)
    ]
    lines = to_text(alerts_table(alerts, last=2)).splitlines()
    assert lines[0].strip() == "alerts: 3 (1 burst, 2 new); latest"
    body = lines[2:]
    assert len(body) == 2 and body[0].split()[2:4] == ["burst", "2"]
    assert body[1].split()[2:4] == ["new", "3"] and "phone · nova | phone, nova" in body[1]


def test_live_table_off_a_terminal_prints_plain_snapshots_at_most_every_interval():
    out = io.StringIO()
    table = LiveTable(out, plain_every=3600)
    screen = view("events in 3", topics_table([]))
    table.draw(screen)
    table.draw(screen)  # within the interval: nothing
    table.draw(screen, force=True)
    text = out.getvalue()
    assert text.count("events in 3") == 2
    assert "\x1b" not in text  # no cursor movement or colour in logs
