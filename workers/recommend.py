"""Topics ranked for a user: topic share and embedding affinity, trending for newcomers, MMR.

Score of a candidate topic ``i`` for user ``u``:
``beta * sum_k p_u[k] * theta_i[k] + (1 - beta) * cos(v_u, e_i)``, where a
topic's distribution ``theta_i`` is one-hot (so the first term is the user's
share of that topic) and ``e_i`` its centroid. A user with few posts blends
toward the trending topics (``cold_posts``: at that many posts personal and
trending weigh the same). Maximal marginal relevance then keeps the list
diverse: each pick maximises ``mmr * score - (1 - mmr) * max cos(e_i, e_picked)``.
Every item explains itself by the user's topics whose centroids it matches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: A user topic "matches" a candidate when their centroids are this close.
MATCH_COSINE = 0.5


@dataclass
class Recommendation:
    """One ranked topic and why: the user's own topics it matches (best first)."""

    topic_id: int
    score: float
    personal: float
    trending: float
    matched: list[int] = field(default_factory=list)


def _unit(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(norm > 0, norm, 1.0)


def recommend_topics(
    user_topics: np.ndarray,
    user_shares: np.ndarray,
    user_vector: np.ndarray,
    posts: int,
    topic_ids: np.ndarray,
    centroids: np.ndarray,
    topic_weights: np.ndarray,
    k: int = 10,
    beta: float = 0.5,
    mmr: float = 0.7,
    cold_posts: int = 2,
) -> list[Recommendation]:
    """The ``k`` candidate topics (``topic_ids`` with ``centroids`` and decayed weights) for a user.

    Examples
    --------
    >>> import numpy as np
    >>> from workers.recommend import recommend_topics
    >>> c = np.eye(3)
    >>> recs = recommend_topics(np.array([3]), np.array([1.0]), c[2], 10,
    ...                         np.array([1, 2, 3]), c, np.array([5.0, 1.0, 1.0]), k=2)
    >>> [(r.topic_id, r.matched) for r in recs]
    [(3, [3]), (1, [])]
    """
    n = len(topic_ids)
    if n == 0 or k < 1:
        return []
    cen = _unit(np.asarray(centroids, dtype=np.float64))
    share = np.zeros(n)
    pos = {int(t): i for i, t in enumerate(topic_ids.tolist())}
    for t, s in zip(user_topics.tolist(), user_shares.tolist(), strict=True):
        if int(t) in pos:
            share[pos[int(t)]] = s
    v = np.asarray(user_vector, dtype=np.float64)
    cos = cen @ _unit(v) if np.linalg.norm(v) > 0 else np.zeros(n)
    personal = beta * share + (1 - beta) * np.clip(cos, 0.0, 1.0)
    w = np.asarray(topic_weights, dtype=np.float64)
    trending = w / w.max() if w.max() > 0 else np.zeros(n)
    alpha = cold_posts / (cold_posts + max(posts, 0))  # 1 for a new user, 1/2 at cold_posts
    score = (1 - alpha) * personal + alpha * trending
    # Explanations: user topics whose centroid matches each candidate's.
    mine = np.array([pos[int(t)] for t in user_topics.tolist() if int(t) in pos], dtype=np.int64)
    match = cen @ cen[mine].T if len(mine) else np.zeros((n, 0))
    picked: list[int] = []
    left = np.ones(n, dtype=bool)
    while len(picked) < min(k, n):
        redundancy = (cen @ cen[picked].T).max(axis=1) if picked else np.zeros(n)
        gain = np.where(left, mmr * score - (1 - mmr) * np.clip(redundancy, 0, 1), -np.inf)
        best = int(np.argmax(gain))
        picked.append(best)
        left[best] = False
    out = []
    for i in picked:
        order = np.argsort(-match[i], kind="stable") if len(mine) else np.zeros(0, np.int64)
        matched = [int(topic_ids[mine[j]]) for j in order if match[i, j] >= MATCH_COSINE]
        out.append(
            Recommendation(
                int(topic_ids[i]), float(score[i]), float(personal[i]), float(trending[i]), matched
            )
        )
    return out
