"""Topic recommendations: personal score, cold start toward trending, MMR diversity."""

from __future__ import annotations

import numpy as np

from workers.recommend import recommend_topics


def test_mmr_skips_a_near_duplicate_of_a_pick() -> None:
    c = np.array([[1.0, 0.0, 0.0], [0.99, 0.14, 0.0], [0.0, 0.0, 1.0]])
    ids = np.array([1, 2, 3])
    args = (np.array([1, 2, 3]), np.array([0.5, 0.45, 0.05]), np.array([1.0, 0.1, 0.2]), 50, ids, c)
    diverse = recommend_topics(*args, np.ones(3), k=2, mmr=0.5)
    greedy = recommend_topics(*args, np.ones(3), k=2, mmr=1.0)
    assert [r.topic_id for r in greedy] == [1, 2]
    assert [r.topic_id for r in diverse] == [1, 3]


def test_a_new_user_gets_trending_topics_and_no_explanations() -> None:
    c = np.eye(3)
    recs = recommend_topics(
        np.zeros(0, np.int64), np.zeros(0), np.zeros(3), 0, np.array([4, 5, 6]), c,
        np.array([1.0, 7.0, 3.0]), k=3,
    )  # fmt: skip
    assert [r.topic_id for r in recs] == [5, 6, 4] and all(r.matched == [] for r in recs)


def test_items_explain_themselves_by_the_users_matching_topics() -> None:
    c = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
    recs = recommend_topics(np.array([1]), np.array([1.0]), c[0], 20, np.array([1, 2, 3]), c,
                            np.ones(3), k=3)  # fmt: skip
    by_id = {r.topic_id: r.matched for r in recs}
    assert by_id == {1: [1], 2: [1], 3: []}
