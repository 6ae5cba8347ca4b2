from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas import SQL_DIR
from streamer.store.sql import escape_value, load_migrations, render, split_statements
from streamer.store.tables import EVENTS, TOPICS, to_epoch


def test_escape_values():
    assert escape_value("it's \\ \n") == "'it\\'s \\\\ \\n'"
    assert escape_value(3) == "3"
    assert escape_value(True) == "1"
    assert escape_value(None) == "NULL"
    assert escape_value(1.5) == "1.5"
    assert escape_value(["a", 1]) == "['a', 1]"
    assert escape_value(("a", 1)) == "('a', 1)"
    assert escape_value(datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)) == "toDateTime(1700000000)"
    with pytest.raises(ValueError):
        escape_value(float("nan"))
    with pytest.raises(TypeError):
        escape_value(object())


def test_render_only_with_params():
    assert render("SELECT '%' LIKE 'a%'") == "SELECT '%' LIKE 'a%'"
    assert render("SELECT %(x)s, '%%'", {"x": "o'k"}) == "SELECT 'o\\'k', '%'"


def test_split_statements_drops_comments():
    text = "-- a; comment\nCREATE TABLE a (x UInt8) ENGINE = Log;\n\n  -- b\nSELECT 1\n"
    assert split_statements(text) == ["CREATE TABLE a (x UInt8) ENGINE = Log", "SELECT 1"]


def test_shipped_migrations_are_ordered_and_portable():
    migs = load_migrations(SQL_DIR)
    assert [m.version for m in migs] == sorted(m.version for m in migs)
    names = [m.name for m in migs]
    for needed in ("events", "topics", "topic_minute_counts", "alerts", "dead_letters"):
        assert needed in names
    # Features ClickHouse 18.16 lacks (docs/components.md) must not appear.
    for m in migs:
        for st in m.statements:
            up = st.upper()
            assert "IF NOT EXISTS" in up
            for banned in ("TTL", "DATETIME64", "MAP(", "CODEC", "LOWCARDINALITY", " WITH "):
                assert banned not in up, (m.name, banned)


def test_duplicate_migration_numbers_rejected(tmp_path):
    (tmp_path / "001_a.sql").write_text("SELECT 1")
    (tmp_path / "001_b.sql").write_text("SELECT 1")
    with pytest.raises(ValueError):
        load_migrations(tmp_path)


def test_row_conversion_fills_defaults():
    row = EVENTS.convert({"event_id": "e", "ts": 1.7e9, "topic_id": 3}, now=42)
    assert row["ts"] == 1700000000
    assert row["user_id"] == "" and row["topk_ids"] == [] and row["version"] == 0
    assert row["ingested_at"] == 42
    t = TOPICS.convert({"topic_id": 1, "merged_into": None, "weight": float("nan")}, now=1)
    assert t["merged_into"] == -1 and t["split_from"] == -1 and t["weight"] == 0.0


def test_epoch_clamps_to_datetime_range():
    assert to_epoch(-5) == 0
    assert to_epoch(1e12) == 2**32 - 1
    assert to_epoch(None) == 0
