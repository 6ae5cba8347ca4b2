"""Reads for the pipeline-health panel: dead letters by reason, the newest ones.

Both run on chdb and ClickHouse 18.16; ``FINAL`` collapses redelivered rows.
"""

from __future__ import annotations

from typing import Any

from streamer.store.base import Store

#: Characters of a dead letter's original bytes shown (the row keeps them all).
RAW_PREVIEW = 300


def dead_letter_reasons(store: Store, limit: int = 50) -> list[dict[str, Any]]:
    """Dead letters grouped by stage and reason, most frequent first."""
    return store.query(
        """
        SELECT stage, reason, count() AS n, toUInt32(max(received_at)) AS last_at
        FROM dead_letters FINAL
        GROUP BY stage, reason
        ORDER BY n DESC, stage, reason
        LIMIT %(limit)s
        """,
        {"limit": int(limit)},
    )


def recent_dead_letters(store: Store, limit: int = 20) -> list[dict[str, Any]]:
    """The newest dead letters (by arrival), with a preview of their bytes."""
    rows = store.query(
        """
        SELECT reason, stage, raw, source_topic, source_partition, source_offset, received_at
        FROM dead_letters FINAL
        ORDER BY received_at DESC, source_offset DESC
        LIMIT %(limit)s
        """,
        {"limit": int(limit)},
    )
    for r in rows:
        raw = str(r["raw"])
        r["raw"] = raw if len(raw) <= RAW_PREVIEW else raw[:RAW_PREVIEW] + "…"
    return rows
