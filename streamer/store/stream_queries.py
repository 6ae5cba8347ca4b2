"""Reads about whole streams: which exist, and each one's event-time "now".

A stream's *now* is its newest minute with an assigned event (the minute
``schemas/queries/trending.sql`` ends its window at), never the wall clock:
a replayed stream from 2013 is shown as it looked live. A stream whose events
all still wait for a topic falls back to its newest event's minute.
"""

from __future__ import annotations

from typing import Any

from streamer.store.base import Store


def streams(store: Store) -> list[dict[str, Any]]:
    """Every stream with its event counts, first/last event time and event-time now."""
    rows = store.query(
        """
        SELECT
            stream,
            count() AS events,
            countIf(topic_id != -1) AS assigned,
            toUInt32(min(ts)) AS first_ts,
            toUInt32(max(ts)) AS last_ts
        FROM events FINAL
        GROUP BY stream
        ORDER BY stream
        """
    )
    nows = {
        r["stream"]: int(r["now_ts"])
        for r in store.query(
            "SELECT stream, toUInt32(max(minute)) AS now_ts FROM topic_minute_counts "
            "WHERE topic_id >= 0 GROUP BY stream"
        )
    }
    out = []
    for r in rows:
        last = int(r["last_ts"])
        events = int(r["events"])
        out.append(
            {
                "stream": r["stream"],
                "events": events,
                "assigned": int(r["assigned"]),
                "unassigned_share": (events - int(r["assigned"])) / events if events else 0.0,
                "first_ts": int(r["first_ts"]),
                "last_ts": last,
                "now_ts": nows.get(r["stream"], last - last % 60),
            }
        )
    return out


def now_minute(store: Store, stream: str) -> int | None:
    """The stream's event-time now (epoch s of its newest minute), None when it is empty."""
    rows = store.query(
        "SELECT toUInt32(max(minute)) AS now_ts, count() AS n FROM topic_minute_counts "
        "WHERE stream = %(s)s AND topic_id >= 0",
        {"s": stream},
    )
    if rows and rows[0]["n"]:
        return int(rows[0]["now_ts"])
    rows = store.query(
        "SELECT toUInt32(max(ts)) AS last_ts, count() AS n FROM events WHERE stream = %(s)s",
        {"s": stream},
    )
    if rows and rows[0]["n"]:
        last = int(rows[0]["last_ts"])
        return last - last % 60
    return None
