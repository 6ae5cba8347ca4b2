"""What the ``/users/...`` and ``/topics/{id}/audience`` routes answer (docs/interests.md).

Profiles are read from the store, their durable copy (the track stage writes
every change through the sink), so any process with a store answers them;
without one they are 409.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from streamer.api.context import ApiContext
from streamer.api.payloads import NotFound, _store
from streamer.store import interest_queries, topic_queries
from workers.recommend import recommend_topics

#: Candidate topics a recommendation ranks (the heaviest live ones).
RECOMMEND_CANDIDATES = 200


def _topic_info(row: dict[str, Any] | None) -> dict[str, Any]:
    if row is None:
        return {"label": "", "keywords": [], "status": "unknown"}
    return {"label": row["label"], "keywords": list(row["keywords"])[:5], "status": row["status"]}


def interests(ctx: ApiContext, v: dict[str, Any]) -> dict[str, Any]:
    """A user's topics (share, weight, label, keywords, last time) as of the profile's time."""
    store = _store(ctx, "user interests")
    stream, user = v["stream"], v["user_id"]
    row = interest_queries.user_profile(store, stream, user)
    if row is None:
        raise NotFound(f"no profile of user {user!r} in stream {stream!r}")
    ids = list(row["topic_ids"])[: v["limit"]]
    info = interest_queries.topic_labels(store, stream, ids)
    topics = [
        {
            "topic_id": int(t),
            "share": float(row["shares"][i]),
            "weight": float(row["weights"][i]),
            "last_ts": int(row["topic_last_ts"][i]),
            **_topic_info(info.get(int(t))),
        }
        for i, t in enumerate(ids)
    ]
    return {
        "stream": stream,
        "user_id": user,
        "as_of": int(row["as_of"]),
        "version": int(row["version"]),
        "posts": int(row["posts"]),
        "last_ts": int(row["last_ts"]),
        "mass": float(row["mass"]),
        "topics": topics,
        "keywords": list(row["keywords"]),
        "source": "store",
    }


def similar(ctx: ApiContext, v: dict[str, Any]) -> dict[str, Any]:
    """Users whose topic shares are closest (cosine) to this user's."""
    store = _store(ctx, "similar users")
    stream, user = v["stream"], v["user_id"]
    me, rows = interest_queries.similar_users(store, stream, user, v["limit"])
    if me is None:
        raise NotFound(f"no profile of user {user!r} in stream {stream!r}")
    return {"stream": stream, "user_id": user, "as_of": int(me["as_of"]), "similar": rows}


def audience(ctx: ApiContext, v: dict[str, Any]) -> dict[str, Any]:
    """The users most into a topic now."""
    store = _store(ctx, "topic audiences")
    stream, tid = v["stream"], v["topic_id"]
    rows = interest_queries.topic_audience(store, stream, tid, v["limit"])
    info = interest_queries.topic_labels(store, stream, [tid]).get(tid)
    return {"stream": stream, "topic_id": tid, **_topic_info(info), "audience": rows}


def recommend(ctx: ApiContext, v: dict[str, Any]) -> dict[str, Any]:
    """Topics ranked for a user (workers/recommend.py), each with the labels it matched."""
    store = _store(ctx, "recommendations")
    stream, user = v["stream"], v["user_id"]
    row = interest_queries.user_profile(store, stream, user, vector=True)
    live = topic_queries.latest_topics(store, stream, RECOMMEND_CANDIDATES)
    ids = [int(t["topic_id"]) for t in live]
    info = interest_queries.topic_labels(store, stream, ids)
    ids = [t for t in ids if t in info and len(info[t]["centroid"])]
    if not ids:
        return {"stream": stream, "user_id": user, "known_user": row is not None, "items": []}
    centroids = np.asarray([info[t]["centroid"] for t in ids], dtype=np.float64)
    weights = np.asarray([float(info[t]["weight"]) for t in ids])
    dim = centroids.shape[1]
    vec = np.asarray(row["vector"], dtype=np.float64) if row else np.zeros(dim)
    if vec.shape != (dim,):
        vec = np.zeros(dim)
    recs = recommend_topics(
        np.asarray(row["topic_ids"] if row else [], dtype=np.int64),
        np.asarray(row["shares"] if row else [], dtype=np.float64),
        vec,
        int(row["posts"]) if row else 0,
        np.asarray(ids, dtype=np.int64),
        centroids,
        weights,
        k=v["limit"],
    )
    items = [
        {
            "topic_id": r.topic_id,
            "score": r.score,
            "personal": r.personal,
            "trending": r.trending,
            **_topic_info(info.get(r.topic_id)),
            "because": [info[t]["label"] for t in r.matched if t in info],
        }
        for r in recs
    ]
    return {"stream": stream, "user_id": user, "known_user": row is not None, "items": items}
