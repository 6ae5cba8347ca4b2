"""``user_interests`` on chdb and ClickHouse 18.16: migration 011, newest row wins, queries."""

from __future__ import annotations

import numpy as np

from streamer.pipeline.tracker import interest_row
from streamer.store import interest_queries
from workers.interests import UserProfile


def _row(user: str, version: int, ids: list[int], shares: list[float], as_of: float = 1e9):
    p = UserProfile(
        user_id=user, as_of=as_of, version=version, posts=3, last_ts=as_of, mass=2.0,
        topic_ids=ids, shares=shares, weights=[2 * s for s in shares],
        topic_last_ts=[as_of] * len(ids), keywords=["amp"], keyword_scores=[0.2],
        vector=np.ones(4, np.float32) / 2,
    )  # fmt: skip
    return interest_row(p, "s")


def test_user_interest_queries_on_both_engines(store):
    rows = [
        _row("ann", 1, [1, 2], [0.5, 0.5]),
        _row("ann", 4, [2, 3], [0.75, 0.25]),
        _row("bob", 2, [1], [1.0]),
        _row("cy", 3, [2], [1.0]),
    ]
    store.insert("user_interests", rows + rows[1:2])  # a redelivered row
    me = interest_queries.user_profile(store, "s", "ann")
    assert me is not None and me["version"] == 4 and list(me["topic_ids"]) == [2, 3]
    assert interest_queries.user_profile(store, "s", "nobody") is None
    # ann left topic 1: bob alone is its audience; cy and ann are topic 2's.
    assert [u["user_id"] for u in interest_queries.topic_audience(store, "s", 1)] == ["bob"]
    assert [u["user_id"] for u in interest_queries.topic_audience(store, "s", 2)] == ["cy", "ann"]
    _, similar = interest_queries.similar_users(store, "s", "ann")
    assert [u["user_id"] for u in similar] == ["cy"] and similar[0]["shared_topics"] == [2]
    n = store.query("SELECT count() AS n FROM user_interests FINAL")[0]["n"]
    assert n == 3


def test_topic_labels_for_profiles_on_both_engines(store):
    def topic(tid: int, version: int, label: str) -> dict:
        return {
            "topic_id": tid, "stream": "s", "version": version, "born_at": 1e9,
            "updated_at": 1e9, "size": 5, "weight": 1.0, "centroid": [1.0, 0.0],
            "keywords": label.split(), "keyword_scores": [1.0], "label": label,
            "status": "active", "merged_into": None, "split_from": None, "examples": [],
        }  # fmt: skip

    store.insert("topics", [topic(1, 1, "old words"), topic(1, 2, "guitar amp"), topic(2, 1, "x")])
    got = interest_queries.topic_labels(store, "s", [1, 2, 3])
    assert {t: r["label"] for t, r in got.items()} == {1: "guitar amp", 2: "x"}
    assert list(got[1]["centroid"]) == [1.0, 0.0]
