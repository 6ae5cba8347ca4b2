"""Column layouts of the tables the sink writes, and row conversion for inserts.

Rows travel as dicts (from the Kafka messages); both stores insert them in the
column order below. Conversion fills missing optional columns with neutral
values and turns times into integer epoch seconds, which both chdb
(JSONEachRow) and clickhouse-driver accept for ``DateTime``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from schemas import MAX_DATETIME


def to_epoch(value: Any) -> int:
    """Integer epoch seconds, clamped to ClickHouse ``DateTime``'s range."""
    if value is None:
        return 0
    v = float(value)
    if not math.isfinite(v):
        return 0
    return min(max(int(v), 0), MAX_DATETIME)


def to_float(value: Any) -> float:
    """A finite float (NaN and infinities become 0.0: JSON cannot carry them)."""
    v = float(value) if value is not None else 0.0
    return v if math.isfinite(v) else 0.0


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _int(value: Any) -> int:
    return 0 if value is None else int(value)


def _int_or_none(value: Any) -> int:
    # Lineage columns: -1 means "no such edge".
    return -1 if value is None else int(value)


def _json(value: Any) -> str:
    # Free-form detail as a JSON string: ClickHouse 18.16 has no JSON or Map type.
    if value is None:
        return "{}"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "str": _str,
    "int": _int,
    "lineage": _int_or_none,
    "float": to_float,
    "datetime": to_epoch,
    "array_int": lambda v: [int(x) for x in (v or ())],
    "array_float": lambda v: [to_float(x) for x in (v or ())],
    "array_str": lambda v: [str(x) for x in (v or ())],
    "json": _json,
}


@dataclass(frozen=True)
class Table:
    """A table's name and its ``(column, kind)`` list in insert order."""

    name: str
    columns: tuple[tuple[str, str], ...]
    #: Column filled with the insert's wall-clock time when a row lacks it.
    now_column: str | None = None

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]

    def convert(self, row: Mapping[str, Any], now: int | None = None) -> dict[str, Any]:
        """Return the row with every column present and of the right Python type."""
        out: dict[str, Any] = {}
        for name, kind in self.columns:
            value = row.get(name)
            if value is None and name == self.now_column:
                value = now if now is not None else int(time.time())
            out[name] = _CONVERTERS[kind](value)
        return out

    def convert_many(self, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        now = int(time.time())
        return [self.convert(r, now) for r in rows]


EVENTS = Table(
    "events",
    (
        ("event_id", "str"),
        ("stream", "str"),
        ("ts", "datetime"),
        ("text", "str"),
        ("user_id", "str"),
        ("lang", "str"),
        ("source", "str"),
        ("topic_id", "int"),
        ("similarity", "float"),
        ("topk_ids", "array_int"),
        ("topk_probs", "array_float"),
        ("version", "int"),
        ("ingested_at", "datetime"),
    ),
    now_column="ingested_at",
)

TOPICS = Table(
    "topics",
    (
        ("topic_id", "int"),
        ("stream", "str"),
        ("version", "int"),
        ("born_at", "datetime"),
        ("updated_at", "datetime"),
        ("size", "int"),
        ("weight", "float"),
        ("centroid", "array_float"),
        ("keywords", "array_str"),
        ("keyword_scores", "array_float"),
        ("label", "str"),
        ("status", "str"),
        ("merged_into", "lineage"),
        ("split_from", "lineage"),
        ("examples", "array_str"),
        ("published_at", "datetime"),
        ("story_id", "lineage"),
    ),
    now_column="published_at",
)

ALERTS = Table(
    "alerts",
    (
        ("alert_id", "str"),
        ("stream", "str"),
        ("topic_id", "int"),
        ("kind", "str"),
        ("score", "float"),
        ("window_start", "datetime"),
        ("window_end", "datetime"),
        ("first_seen", "datetime"),
        ("size", "int"),
        ("keywords", "array_str"),
        ("label", "str"),
        ("examples", "array_str"),
        ("created_at", "datetime"),
        ("extra", "json"),
        ("story_id", "lineage"),
    ),
    now_column="created_at",
)

DEAD_LETTERS = Table(
    "dead_letters",
    (
        ("reason", "str"),
        ("stage", "str"),
        ("raw", "str"),
        ("source_topic", "str"),
        ("source_partition", "int"),
        ("source_offset", "int"),
        ("received_at", "datetime"),
    ),
    now_column="received_at",
)

TRACK_CHECKPOINTS = Table(
    "track_checkpoints",
    (
        ("namespace", "str"),
        ("kafka_partition", "int"),
        ("generation", "int"),
        ("saved_at", "datetime"),
        ("state", "str"),
    ),
    now_column="saved_at",
)

USER_INTERESTS = Table(
    "user_interests",
    (
        ("stream", "str"),
        ("user_id", "str"),
        ("version", "int"),
        ("as_of", "datetime"),
        ("last_ts", "datetime"),
        ("posts", "int"),
        ("mass", "float"),
        ("topic_ids", "array_int"),
        ("shares", "array_float"),
        ("weights", "array_float"),
        ("topic_last_ts", "array_int"),
        ("keywords", "array_str"),
        ("keyword_scores", "array_float"),
        ("vector", "array_float"),
        ("published_at", "datetime"),
    ),
    now_column="published_at",
)

TABLES: dict[str, Table] = {
    t.name: t for t in (EVENTS, TOPICS, ALERTS, DEAD_LETTERS, TRACK_CHECKPOINTS, USER_INTERESTS)
}
