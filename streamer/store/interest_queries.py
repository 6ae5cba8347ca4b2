"""Reads of ``user_interests``: a user's profile, similar users, a topic's audience.

Written for both chdb and ClickHouse 18.16 (no CTEs, window functions or
Map): the newest row of a user is ``ORDER BY version DESC LIMIT 1 BY``, and
topic labels come from the newest ``topics`` snapshots. Weights in a row are
decayed to that row's ``as_of``; readers comparing users decay them on to a
common now at the profiles' half-life (docs/interests.md).
"""

from __future__ import annotations

import math
from typing import Any

from streamer.store.base import Store
from workers.interests import InterestSettings

#: Most candidate users a similarity or audience query reads back.
MAX_CANDIDATES = 2000

_COLUMNS = """
    stream, user_id, version, as_of, last_ts, posts, mass, topic_ids, shares, weights,
    topic_last_ts, keywords, keyword_scores
"""


def user_profile(
    store: Store, stream: str, user_id: str, vector: bool = False
) -> dict[str, Any] | None:
    """The newest profile row of one user (None: never seen)."""
    rows = store.query(
        f"""
        SELECT {_COLUMNS} {", vector" if vector else ""}
        FROM user_interests
        WHERE stream = %(s)s AND user_id = %(u)s
        ORDER BY version DESC
        LIMIT 1
        """,
        {"s": stream, "u": user_id},
    )
    return rows[0] if rows else None


def topic_labels(store: Store, stream: str, topic_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Newest label, keywords, status and centroid of each topic."""
    if not topic_ids:
        return {}
    rows = store.query(
        """
        SELECT topic_id, label, keywords, status, merged_into, weight, centroid
        FROM topics
        WHERE stream = %(s)s AND topic_id IN %(ids)s
        ORDER BY version DESC
        LIMIT 1 BY topic_id
        """,
        {"s": stream, "ids": tuple(int(t) for t in topic_ids)},
    )
    return {int(r["topic_id"]): r for r in rows}


def _latest_with_topics(
    store: Store, stream: str, topic_ids: list[int], limit: int = MAX_CANDIDATES
) -> list[dict[str, Any]]:
    """Newest rows of users whose newest row holds any of ``topic_ids``."""
    if not topic_ids:
        return []
    # Users that ever held one of the topics, then each one's newest row, which
    # must still hold one (an older row may name a topic the user has left).
    return store.query(
        f"""
        SELECT {_COLUMNS}
        FROM user_interests
        WHERE stream = %(s)s AND user_id IN (
            SELECT user_id FROM user_interests
            WHERE stream = %(s)s AND hasAny(topic_ids, %(ids)s)
        )
        ORDER BY version DESC
        LIMIT 1 BY user_id
        LIMIT %(cap)s
        """,
        {"s": stream, "ids": [int(t) for t in topic_ids], "cap": int(limit)},
    )


def _decay_to(rows: list[dict[str, Any]], now: float, half_life_s: float) -> None:
    """Scale each row's weights from its ``as_of`` to ``now``."""
    rate = math.log(2.0) / half_life_s
    for r in rows:
        f = math.exp(-rate * max(now - float(r["as_of"]), 0.0))
        r["weights"] = [float(w) * f for w in r["weights"]]
        r["mass"] = float(r["mass"]) * f


def topic_audience(
    store: Store, stream: str, topic_id: int, limit: int = 20, half_life_s: float | None = None
) -> list[dict[str, Any]]:
    """Users most into a topic now: their weight on it decayed to the newest ``as_of``."""
    rows = [r for r in _latest_with_topics(store, stream, [topic_id]) if topic_id in r["topic_ids"]]
    if not rows:
        return []
    now = max(float(r["as_of"]) for r in rows)
    _decay_to(rows, now, half_life_s or InterestSettings().half_life_s)
    out = []
    for r in rows:
        i = list(r["topic_ids"]).index(topic_id)
        out.append(
            {
                "user_id": r["user_id"],
                "share": float(r["shares"][i]),
                "weight": float(r["weights"][i]),
                "posts": int(r["posts"]),
                "last_ts": int(r["topic_last_ts"][i]),
            }
        )
    out.sort(key=lambda x: (-x["weight"], -x["share"], x["user_id"]))
    return out[:limit]


def similar_users(
    store: Store, stream: str, user_id: str, limit: int = 10
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """``(the user's row, users ranked by cosine of topic shares)``; shared topics listed."""
    me = user_profile(store, stream, user_id)
    if me is None:
        return None, []
    mine = dict(zip(me["topic_ids"], me["shares"], strict=True))
    norm = math.sqrt(sum(s * s for s in mine.values())) or 1.0
    out = []
    for r in _latest_with_topics(store, stream, list(mine)):
        if r["user_id"] == user_id:
            continue
        theirs = dict(zip(r["topic_ids"], r["shares"], strict=True))
        shared = sorted(set(mine) & set(theirs), key=lambda t: -mine[t] * theirs[t])
        if not shared:
            continue
        dot = sum(mine[t] * theirs[t] for t in shared)
        other = math.sqrt(sum(s * s for s in theirs.values())) or 1.0
        out.append(
            {
                "user_id": r["user_id"],
                "similarity": dot / (norm * other),
                "posts": int(r["posts"]),
                "shared_topics": [int(t) for t in shared],
            }
        )
    out.sort(key=lambda x: (-x["similarity"], x["user_id"]))
    return me, out[:limit]
