"""Reads of the ``alerts`` table for ``topictrack alerts`` and the API's ``/alerts``.

Runs on chdb and ClickHouse 18.16 alike (``FINAL`` collapses redelivered alerts).
"""

from __future__ import annotations

import json
from typing import Any

from streamer.store.base import Store

#: The alert kinds ``workers.alerts.AlertDetector`` raises.
ALERT_KINDS = ("new", "development", "burst")

_COLUMNS = (
    "alert_id, stream, topic_id, kind, score, window_start, window_end, "
    "first_seen, size, keywords, label, examples, created_at, extra, story_id"
)


def _alert_filter(stream: str | None, kind: str | None) -> str:
    where = ""
    if stream:
        where += " AND stream = %(stream)s"
    if kind:
        where += " AND kind = %(kind)s"
    return where


def newest_alert_time(
    store: Store, stream: str | None = None, kind: str | None = None
) -> int | None:
    """Event time (epoch s) of the newest alert, or None when there is none."""
    rows = store.query(
        "SELECT toUInt32(max(window_end)) AS newest, count() AS n FROM alerts WHERE 1"
        + _alert_filter(stream, kind),
        {"stream": stream or "", "kind": kind or ""},
    )
    return int(rows[0]["newest"]) if rows and rows[0]["n"] else None


def alerts(
    store: Store,
    since_s: float | None = None,
    stream: str | None = None,
    kind: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Alerts (one row per ``alert_id``), oldest first.

    ``since_s`` keeps those that fired within that much *event time* before
    the newest alert (of the same stream/kind filter): the stream's clock,
    not the wall clock, so a replayed year answers like a live day.
    """
    if kind and kind not in ALERT_KINDS:
        raise ValueError(f"kind must be one of {', '.join(ALERT_KINDS)}, got {kind!r}")
    since = 0
    if since_s is not None:
        newest = newest_alert_time(store, stream, kind)
        if newest is None:
            return []
        since = max(int(newest - since_s), 0)
    # The newest `limit` alerts, returned oldest first.
    rows = store.query(
        f"""
        SELECT {_COLUMNS}
        FROM alerts FINAL
        WHERE window_end >= toDateTime(%(since)s)"""
        + _alert_filter(stream, kind)
        + """
        ORDER BY window_end DESC, created_at DESC, alert_id DESC
        LIMIT %(limit)s
        """,
        {"since": since, "stream": stream or "", "kind": kind or "", "limit": int(limit)},
    )
    return [_decoded(r) for r in reversed(rows)]


def _decoded(r: dict[str, Any]) -> dict[str, Any]:
    try:
        r["extra"] = json.loads(r.get("extra") or "{}")
    except ValueError:
        r["extra"] = {"raw": r.get("extra")}
    return r


def alerts_created_after(
    store: Store, created_at: int, alert_id: str, settled: int, limit: int = 500
) -> list[dict[str, Any]]:
    """Alerts after ``(created_at, alert_id)`` and created by ``settled`` (wall clock),
    in ``(created_at, alert_id)`` order: the pages of the store's alert feed."""
    rows = store.query(
        f"""
        SELECT {_COLUMNS}
        FROM alerts FINAL
        WHERE (created_at > toDateTime(%(c)s)
               OR (created_at = toDateTime(%(c)s) AND alert_id > %(id)s))
          AND created_at <= toDateTime(%(settled)s)
        ORDER BY created_at, alert_id
        LIMIT %(limit)s
        """,
        {"c": int(created_at), "id": alert_id, "settled": int(settled), "limit": int(limit)},
    )
    return [_decoded(r) for r in rows]
