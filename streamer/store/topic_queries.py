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
    store: Store,
    stream: str | None = None,
    limit: int = 20,
    include_merged: bool = False,
    contains: str | None = None,
    story: int | None = None,
) -> list[dict[str, Any]]:
    """The newest snapshot of each topic, heaviest (decayed weight) first.

    ``contains``: only topics with a keyword or label containing it (any case);
    ``story``: only the topics of that story (``workers.stories``).
    """
    where = "AND stream = %(stream)s" if stream else ""
    merged = "" if include_merged else "AND status != 'merged'"
    if story is not None:
        merged += " AND story_id = %(story)s"
    if contains:
        merged += (
            " AND (arrayExists(k -> position(lower(k), %(q)s) > 0, keywords)"
            " OR position(lower(label), %(q)s) > 0)"
        )
    # Tuple IN + LIMIT BY rather than argMax over aliases: same text works on
    # 18.16, and redelivered copies of the newest snapshot collapse to one.
    return store.query(
        f"""
        SELECT
            stream, topic_id, version, size, weight, keywords, label, status,
            born_at, updated_at, merged_into, split_from, examples, story_id
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
        {
            "stream": stream or "",
            "limit": int(limit),
            "q": (contains or "").lower(),
            "story": -2 if story is None else int(story),
        },
    )


#: Versions read for a topic's keyword history (the newest ones).
HISTORY_VERSIONS = 20_000


def topic_detail(store: Store, stream: str, topic_id: int) -> dict[str, Any] | None:
    """The newest snapshot of one topic (keyword scores included), or None."""
    rows = store.query(
        """
        SELECT
            stream, topic_id, version, born_at, updated_at, size, weight, keywords,
            keyword_scores, label, status, merged_into, split_from, examples, published_at,
            story_id
        FROM topics
        WHERE stream = %(s)s AND topic_id = %(t)s
        ORDER BY version DESC
        LIMIT 1
        """,
        {"s": stream, "t": int(topic_id)},
    )
    return rows[0] if rows else None


def keyword_history(store: Store, stream: str, topic_id: int) -> list[dict[str, Any]]:
    """The versions at which a topic's keywords changed, oldest first.

    Each entry: ``version, updated_at, size, keywords, added, removed`` (against
    the previous entry); versions that only grew the topic are left out.
    """
    rows = store.query(
        """
        SELECT version, updated_at, size, keywords
        FROM topics
        WHERE stream = %(s)s AND topic_id = %(t)s
        ORDER BY version DESC
        LIMIT 1 BY version
        LIMIT %(n)s
        """,
        {"s": stream, "t": int(topic_id), "n": HISTORY_VERSIONS},
    )
    out: list[dict[str, Any]] = []
    for r in reversed(rows):
        kws = list(r["keywords"])
        prev = out[-1]["keywords"] if out else None
        if prev is not None and kws == prev:
            continue
        before = set(prev or [])
        out.append(
            {
                "version": int(r["version"]),
                "updated_at": int(r["updated_at"]),
                "size": int(r["size"]),
                "keywords": kws,
                "added": [k for k in kws if k not in before] if prev is not None else [],
                "removed": [k for k in (prev or []) if k not in set(kws)],
            }
        )
    return out


def lineage(store: Store, stream: str, topic: dict[str, Any]) -> dict[str, Any]:
    """A topic's lineage edges, each side named: merged into, split from, merged from,
    split into."""
    tid = int(topic["topic_id"])
    rows = store.query(
        """
        SELECT
            topic_id,
            max(merged_into = %(t)s) AS merged_here,
            max(split_from = %(t)s) AS split_here
        FROM topics
        WHERE stream = %(s)s AND (merged_into = %(t)s OR split_from = %(t)s)
        GROUP BY topic_id
        ORDER BY topic_id
        """,
        {"s": stream, "t": tid},
    )
    merged_from = [int(r["topic_id"]) for r in rows if int(r["merged_here"])]
    split_into = [int(r["topic_id"]) for r in rows if int(r["split_here"])]
    into = int(topic.get("merged_into") if topic.get("merged_into") is not None else -1)
    parent = int(topic.get("split_from") if topic.get("split_from") is not None else -1)
    ids = merged_from + split_into + [t for t in (into, parent) if t >= 0]
    names = topic_names(store, stream, ids)

    def named(t: int) -> dict[str, Any]:
        label, keywords = names.get(t, ("", []))
        return {"topic_id": t, "label": label, "keywords": keywords[:5]}

    return {
        "merged_into": named(into) if into >= 0 else None,
        "split_from": named(parent) if parent >= 0 else None,
        "merged_from": [named(t) for t in merged_from],
        "split_into": [named(t) for t in split_into],
    }


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
