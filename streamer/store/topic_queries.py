"""Reads of the ``topics`` and ``events`` tables: latest topic snapshots, counts, totals.

Written for both chdb and ClickHouse 18.16: no CTEs, window functions, Map or
DateTime64; ``FINAL`` and ``argMax`` for the latest version of a row.
"""

from __future__ import annotations

from typing import Any

from streamer.store.base import Store

#: Event-time window (seconds) of the "recent" counts.
RECENT_WINDOW = 15 * 60


def latest_topics(
    store: Store, stream: str | None = None, limit: int = 20, include_merged: bool = False
) -> list[dict[str, Any]]:
    """The newest snapshot of each topic, heaviest (decayed weight) first."""
    where = "AND stream = %(stream)s" if stream else ""
    merged = "" if include_merged else "AND status != 'merged'"
    # Tuple IN + LIMIT BY rather than argMax over aliases: same text works on
    # 18.16, and redelivered copies of the newest snapshot collapse to one.
    return store.query(
        f"""
        SELECT
            stream, topic_id, version, size, weight, keywords, label, status,
            born_at, updated_at, merged_into, split_from, examples
        FROM topics
        WHERE (stream, topic_id, version) IN (
            SELECT stream, topic_id, max(version) FROM topics
            WHERE 1 {where}
            GROUP BY stream, topic_id
        )
        {where} {merged}
        ORDER BY weight DESC, size DESC, topic_id
        LIMIT 1 BY stream, topic_id
        LIMIT %(limit)s
        """,
        {"stream": stream or "", "limit": int(limit)},
    )


def last_event_time(store: Store, stream: str) -> int | None:
    rows = store.query(
        "SELECT toUInt32(max(ts)) AS last_ts, count() AS n FROM events WHERE stream = %(s)s",
        {"s": stream},
    )
    return int(rows[0]["last_ts"]) if rows and rows[0]["n"] else None


def recent_counts(
    store: Store, stream: str, until: float, window: float = RECENT_WINDOW
) -> dict[int, int]:
    """Distinct events per topic in the event-time window ending at ``until``."""
    rows = store.query(
        """
        SELECT topic_id, uniqExactMerge(events) AS n
        FROM topic_minute_counts
        WHERE stream = %(s)s AND minute >= toDateTime(%(since)s)
        GROUP BY topic_id
        """,
        {"s": stream, "since": max(int(until - window), 0)},
    )
    return {int(r["topic_id"]): int(r["n"]) for r in rows}


def totals(store: Store) -> dict[str, int]:
    """Distinct events stored, how many have a topic, topics, dead letters."""
    ev = store.query(
        "SELECT count() AS events, countIf(topic_id != -1) AS assigned FROM events FINAL"
    )[0]
    tp = store.query("SELECT uniqExact(stream, topic_id) AS topics FROM topics")[0]
    dl = store.query("SELECT count() AS dead_letters FROM dead_letters FINAL")[0]
    return {
        "events": int(ev["events"]),
        "assigned": int(ev["assigned"]),
        "topics": int(tp["topics"]),
        "dead_letters": int(dl["dead_letters"]),
    }


def topic_names(store: Store, stream: str, ids: list[int]) -> dict[int, tuple[str, list[str]]]:
    """Label and keywords of each topic's newest snapshot."""
    if not ids:
        return {}
    rows = store.query(
        """
        SELECT topic_id, label, keywords
        FROM topics
        WHERE stream = %(s)s AND (topic_id, version) IN (
            SELECT topic_id, max(version) FROM topics
            WHERE stream = %(s)s AND topic_id IN %(ids)s
            GROUP BY topic_id
        )
        LIMIT 1 BY topic_id
        """,
        {"s": stream, "ids": tuple(sorted(set(ids)))},
    )
    return {int(r["topic_id"]): (str(r["label"]), list(r["keywords"])) for r in rows}
