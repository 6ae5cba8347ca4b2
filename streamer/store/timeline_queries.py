"""Per-minute counts of chosen topics (the dashboard's timelines and sparklines).

Counted as the trending query counts (``schemas/queries/trending.sql``): exact
distinct events per event-time minute from ``topic_minute_counts``, and a topic
that was merged away counts under the topic it merged into (one level), so a
timeline's last window adds up to the trending row's ``window_count``.
"""

from __future__ import annotations

from typing import Any

from streamer.store.base import Store


def merged_children(store: Store, stream: str, ids: list[int]) -> dict[int, int]:
    """Topics merged into one of ``ids``: child id -> survivor id."""
    if not ids:
        return {}
    rows = store.query(
        """
        SELECT topic_id, any(merged_into) AS survivor
        FROM topics
        WHERE stream = %(s)s AND status = 'merged' AND merged_into IN %(ids)s
        GROUP BY topic_id
        """,
        {"s": stream, "ids": tuple(sorted(set(ids)))},
    )
    return {int(r["topic_id"]): int(r["survivor"]) for r in rows}


def minute_counts(
    store: Store, stream: str, ids: list[int], since: int, until: int
) -> dict[int, dict[int, int]]:
    """``{topic_id: {minute: events}}`` for minutes in ``(since, until]`` (epoch s)."""
    if not ids:
        return {}
    survivor = {t: t for t in ids}
    survivor.update(merged_children(store, stream, ids))
    rows = store.query(
        """
        SELECT topic_id, toUInt32(minute) AS minute, uniqExactMerge(events) AS n
        FROM topic_minute_counts
        WHERE stream = %(s)s AND topic_id IN %(ids)s
          AND minute > toDateTime(%(since)s) AND minute <= toDateTime(%(until)s)
        GROUP BY topic_id, minute
        """,
        {"s": stream, "ids": tuple(sorted(survivor)), "since": int(since), "until": int(until)},
    )
    out: dict[int, dict[int, int]] = {t: {} for t in ids}
    for r in rows:
        per = out[survivor[int(r["topic_id"])]]
        m = int(r["minute"])
        per[m] = per.get(m, 0) + int(r["n"])
    return out


def series(counts: dict[int, int], since: int, until: int) -> list[int]:
    """Zero-filled counts for every minute in ``(since, until]``."""
    start = since - since % 60 + 60
    return [counts.get(m, 0) for m in range(start, until + 1, 60)]


def minutes(since: int, until: int) -> list[int]:
    start = since - since % 60 + 60
    return list(range(start, until + 1, 60))


def timeline(store: Store, stream: str, ids: list[int], since: int, until: int) -> dict[str, Any]:
    """Minutes and one zero-filled series per topic, for ``(since, until]``."""
    counts = minute_counts(store, stream, ids, since, until)
    return {
        "minutes": minutes(since, until),
        "series": {str(t): series(counts[t], since, until) for t in ids},
    }
