"""The trending ranking: ``schemas/queries/trending.sql`` over ``topic_minute_counts``.

``topictrack trending`` and the API's ``/trending`` read it; the
``trending_topics`` view (migration 007) is the same query with fixed windows
for dashboards. Both run on chdb and ClickHouse 18.16, and rank exactly as
``workers.trending.TrendCounter`` (``tests/integration/test_trending_sql.py``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from schemas import QUERIES_DIR
from streamer.store.base import Store
from streamer.store.topic_queries import topic_names
from workers.trending import TrendSettings

#: The defaults of ``workers.trending.TrendSettings`` (15 min over a 24 h baseline).
DEFAULT_WINDOW_S = 15 * 60
DEFAULT_BASELINE_S = 24 * 3600
DEFAULT_MIN_SUPPORT = 5


@cache
def trending_sql() -> str:
    """The query of ``schemas/queries/trending.sql``, without its comment lines (the docs)."""
    text = (QUERIES_DIR / "trending.sql").read_text(encoding="utf-8")
    return "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("--"))


def check_trend_windows(window_s: float, baseline_s: float, min_support: int) -> None:
    """Raise ``ValueError`` unless the windows are whole minutes, baseline >= window."""
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
