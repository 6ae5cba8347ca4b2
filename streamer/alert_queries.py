"""Reads for ``topictrack trending`` / ``alerts`` and the worker's ``/trending`` / ``/alerts``.

The trending ranking is ``schemas/queries/trending.sql`` (documented there);
the ``trending_topics`` view (migration 007) is the same query with fixed
windows for dashboards. Everything runs on chdb and ClickHouse 18.16.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from schemas import QUERIES_DIR
from streamer.store import Store

#: The defaults of ``workers.trending.TrendSettings`` (15 min over a 24 h baseline).
DEFAULT_WINDOW_S = 15 * 60
DEFAULT_BASELINE_S = 24 * 3600
DEFAULT_MIN_SUPPORT = 5

ALERT_KINDS = ("new", "burst")


@cache
def trending_sql() -> str:
    """The query of ``schemas/queries/trending.sql``, without its comment lines (the docs)."""
    text = (QUERIES_DIR / "trending.sql").read_text(encoding="utf-8")
    return "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("--"))


def check_trend_windows(window_s: float, baseline_s: float, min_support: int) -> None:
    """Raise ``ValueError`` unless the windows are whole minutes, baseline >= window."""
    from workers.trending import TrendSettings

    TrendSettings(float(window_s), float(baseline_s), int(min_support))


def trending(
    store: Store,
    stream: str = "default",
    window_s: float = DEFAULT_WINDOW_S,
    baseline_s: float = DEFAULT_BASELINE_S,
    min_support: int = DEFAULT_MIN_SUPPORT,
    limit: int = 10,
) -> list[dict[str, Any]]:
    """Trending topics of ``stream``, best first, with label and keywords.

    Each row: ``topic_id, label, keywords, window_count, baseline_count,
    expected, growth, score, now_ts`` (``now_ts``: the event-time minute the
    window ends at).
    """
    check_trend_windows(window_s, baseline_s, min_support)
    rows = store.query(
        trending_sql(),
        {
            "stream": stream,
            "window_s": int(window_s),
            "baseline_s": int(baseline_s),
            "min_support": int(min_support),
            "limit": int(limit),
        },
    )
    names = topic_names(store, stream, [int(r["topic_id"]) for r in rows])
    out = []
    for r in rows:
        label, keywords = names.get(int(r["topic_id"]), ("", []))
        out.append(
            {
                "stream": stream,
                "topic_id": int(r["topic_id"]),
                "label": label,
                "keywords": keywords,
                "window_count": int(r["window_count"]),
                "baseline_count": int(r["baseline_count"]),
                "expected": float(r["expected"]),
                "growth": float(r["growth"]),
                "score": float(r["score"]),
                "now_ts": int(r["now_ts"]),
            }
        )
    return out


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
        """
        SELECT
            alert_id, stream, topic_id, kind, score, window_start, window_end,
            first_seen, size, keywords, label, examples, created_at, extra
        FROM alerts FINAL
        WHERE window_end >= toDateTime(%(since)s)"""
        + _alert_filter(stream, kind)
        + """
        ORDER BY window_end DESC, created_at DESC, alert_id DESC
        LIMIT %(limit)s
        """,
        {"since": since, "stream": stream or "", "kind": kind or "", "limit": int(limit)},
    )
    out = []
    for r in reversed(rows):
        try:
            r["extra"] = json.loads(r.get("extra") or "{}")
        except ValueError:
            r["extra"] = {"raw": r.get("extra")}
        out.append(r)
    return out
