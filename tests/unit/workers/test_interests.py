"""User interest profiles: evidence, late moves, lineage, bounds, checkpoints, drift tracking."""

from __future__ import annotations

import numpy as np
import pytest

from workers.interests import InterestSettings, UserInterests
from workers.topic_types import UNASSIGNED, BatchResult, LateAssignment, LineageEvent

DAY = 86400.0


def result(
    topics: list[int],
    probs: list[list[float]] | None = None,
    ids: list[list[int]] | None = None,
    late: list[LateAssignment] | None = None,
    lineage: list[LineageEvent] | None = None,
) -> BatchResult:
    """A BatchResult whose top-1 is ``topics`` (prob 1 unless ``probs``/``ids`` say)."""
    n = len(topics)
    ids_a = np.array(ids if ids is not None else [[t] for t in topics], dtype=np.int64)
    probs_a = np.array(probs if probs is not None else [[1.0] for _ in topics])
    probs_a = np.where(ids_a == UNASSIGNED, 0.0, probs_a)
    return BatchResult(
        np.array(topics, dtype=np.int64).reshape(n),
        np.ones(n, np.float32),
        ids_a.reshape(n, -1 if n else 1),
        probs_a.reshape(n, -1 if n else 1),
        late=late or [],
        lineage=lineage or [],
    )


def vecs(n: int, dim: int = 4) -> np.ndarray:
    return np.tile(np.eye(dim, dtype=np.float32)[:1], (n, 1))


def shares(prof: UserInterests, user: str) -> dict[int, float]:
    p = prof.profile(user)
    assert p is not None
    return {t: round(s, 6) for t, s in zip(p.topic_ids, p.shares, strict=True)}


def test_topk_distribution_is_the_evidence_and_no_topic_mass_counts_nothing() -> None:
    prof = UserInterests(4)
    res = result([1], probs=[[0.6, 0.2]], ids=[[1, 2]])  # 0.2 of the post is "no topic"
    prof.observe(["ann"], np.array([0.0]), vecs(1), res)
    p = prof.profile("ann")
    assert p is not None
    assert p.topic_ids == [1, 2]
    assert p.weights == pytest.approx([0.6, 0.2])
    assert p.shares == pytest.approx([0.75, 0.25])
    assert p.posts == 1


def test_anonymous_posts_make_no_profile() -> None:
    prof = UserInterests(4)
    prof.observe(["", "bob"], np.array([0.0, 1.0]), vecs(2), result([1, 1]))
    assert len(prof) == 1 and "" not in prof


def test_buffered_post_adds_nothing_until_its_late_assignment() -> None:
    prof = UserInterests(4)
    waiting = result([UNASSIGNED], ids=[[3]], probs=[[0.9]])  # nearest topic listed anyway
    prof.observe(["ann"], np.array([0.0]), vecs(1), waiting, doc_ids=["d1"])
    p = prof.profile("ann")
    assert p is not None and p.topic_ids == [] and p.posts == 1
    late = LateAssignment(["d1"], 5, np.array([0.8]), np.array([0.0]))
    prof.observe(["bob"], np.array([10.0]), vecs(1), result([5], late=[late]), doc_ids=["d2"])
    assert shares(prof, "ann") == {5: 1.0}


def test_a_take_back_moves_the_posts_mass_to_the_new_topic() -> None:
    prof = UserInterests(4)
    prof.observe(["ann", "ann"], np.array([0.0, 0.0]), vecs(2), result([1, 1]), doc_ids=["a", "b"])
    back = LateAssignment(["a"], 7, np.array([0.9]), np.array([0.0]), previous=np.array([1]))
    prof.observe([], np.array([1.0]), vecs(0), result([], late=[back]))
    assert shares(prof, "ann") == {1: 0.5, 7: 0.5}


def test_a_merge_moves_mass_into_the_survivor_and_a_split_moves_nothing() -> None:
    prof = UserInterests(4)
    prof.observe(["ann", "ann", "bob"], np.zeros(3), vecs(3), result([1, 2, 2]))
    merged = [LineageEvent("merged", 2, 5.0, other=1), LineageEvent("split", 9, 5.0, other=1)]
    prof.observe([], np.array([5.0]), vecs(0), result([], lineage=merged))
    assert shares(prof, "ann") == {1: 1.0}
    assert shares(prof, "bob") == {1: 1.0}


def test_archived_topics_are_dropped_and_dormant_ones_only_decay() -> None:
    prof = UserInterests(4, InterestSettings(half_life_s=DAY))
    prof.observe(["ann", "ann"], np.zeros(2), vecs(2), result([1, 2]))
    gone = [LineageEvent("dormant", 1, DAY), LineageEvent("archived", 2, DAY)]  # type: ignore[arg-type]
    prof.observe([], np.array([DAY]), vecs(0), result([], lineage=gone))
    p = prof.profile("ann")
    assert p is not None and p.topic_ids == [1]
    assert p.weights == pytest.approx([0.5])  # one half-life later


def test_decay_is_in_event_time_and_the_share_follows_recent_posts() -> None:
    prof = UserInterests(4, InterestSettings(half_life_s=DAY))
    prof.observe(["ann"], np.array([0.0]), vecs(1), result([1]))
    prof.observe(["ann"], np.array([3 * DAY]), vecs(1), result([2]))
    assert shares(prof, "ann") == pytest.approx({2: 8 / 9, 1: 1 / 9}, abs=1e-6)
    p = prof.profile("ann")
    assert p is not None and p.as_of == 3 * DAY and p.mass == pytest.approx(1.125)


def test_at_most_k_topics_per_user_and_small_shares_pruned() -> None:
    prof = UserInterests(4, InterestSettings(max_topics=3, eps=0.05))
    prof.observe(["ann"] * 5, np.arange(5.0), vecs(5), result([1, 2, 3, 4, 5]))
    p = prof.profile("ann")
    assert p is not None and len(p.topic_ids) == 3
    prof.observe(["ann"] * 30, np.full(30, 10.0), vecs(30), result([9] * 30))
    p = prof.profile("ann")
    assert p is not None and all(s >= 0.05 for s in p.shares) and p.topic_ids[0] == 9


def test_users_in_memory_are_bounded_least_recently_seen_evicted() -> None:
    prof = UserInterests(4, InterestSettings(max_users=3))
    for i, user in enumerate(["a", "b", "c", "a", "d"]):
        prof.observe([user], np.array([float(i)]), vecs(1), result([1]))
    assert len(prof) == 3 and "b" not in prof and {"a", "c", "d"} <= set(prof.slots)
    assert prof.evictions == 1
    p = prof.profile("d")
    assert p is not None and p.posts == 1  # the reused slot starts empty


def test_dense_vector_is_the_decayed_mean_embedding() -> None:
    prof = UserInterests(2, InterestSettings(half_life_s=DAY))
    x = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    prof.observe(["ann", "ann"], np.array([0.0, DAY]), x, result([1, 1]))
    p = prof.profile("ann")
    assert p is not None
    expected = np.array([0.5, 1.0]) / np.linalg.norm([0.5, 1.0])
    assert np.allclose(p.vector, expected, atol=1e-6)


def test_keywords_rank_the_users_own_words_above_the_streams_common_ones() -> None:
    prof = UserInterests(4)
    terms = [["guitar", "news"], ["guitar", "amp", "news"], ["news", "weather"], ["news"]]
    prof.observe(["ann", "ann", "bob", "cy"], np.zeros(4), vecs(4), result([1, 1, 2, 2]), terms)
    p = prof.profile("ann")
    assert p is not None and p.keywords[0] == "guitar" and p.keywords[-1] == "news"


def test_drain_changed_lists_each_changed_user_once() -> None:
    prof = UserInterests(4)
    prof.observe(["ann", "bob", "ann"], np.zeros(3), vecs(3), result([1, 1, 2]))
    assert [p.user_id for p in prof.drain_changed()] == ["ann", "bob"]
    assert prof.drain_changed() == []
    prof.observe(["bob"], np.array([1.0]), vecs(1), result([1]))
    (p,) = prof.drain_changed()
    assert p.user_id == "bob" and p.version == 2


def test_a_restored_snapshot_continues_exactly_like_the_original() -> None:
    prof = UserInterests(4, InterestSettings(half_life_s=DAY))
    waiting = result([UNASSIGNED, 1], ids=[[2], [1]], probs=[[0.5], [0.7]])
    prof.observe(
        ["ann", "bob"], np.array([0.0, 1.0]), vecs(2), waiting, [["x"], ["y"]], ["d1", "d2"]
    )
    twin = UserInterests.restore(prof.snapshot())
    late = LateAssignment(
        ["d1", "d2"],
        4,
        np.array([0.8, 0.9]),
        np.array([0.0, 1.0]),
        previous=np.array([UNASSIGNED, 1]),
    )
    for p in (prof, twin):
        p.observe(["ann"], np.array([DAY]), vecs(1), result([4], late=[late]), [["x"]], ["d3"])
    a, b = prof.profile("ann"), twin.profile("ann")
    assert a is not None and b is not None
    assert (a.topic_ids, a.shares, a.keywords, a.version) == (
        b.topic_ids,
        b.shares,
        b.keywords,
        b.version,
    )
    assert shares(prof, "bob") == shares(twin, "bob") == {4: 1.0}


def test_snapshot_of_something_else_is_refused() -> None:
    with pytest.raises(ValueError, match="topictrack-interests"):
        UserInterests.restore(b"not a snapshot")


def jsd(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen-Shannon divergence (base 2, in [0, 1]) between rows of ``p`` and ``q``."""
    m = 0.5 * (p + q)

    def kl(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(a > 0, a * np.log2(a / b), 0.0).sum(axis=1)

    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def drifting_stream(seed: int = 0) -> tuple[list[str], np.ndarray, BatchResult, np.ndarray, int]:
    """Users whose topic mixture moves from one random mixture to another over 60 days.

    Each post's topic is drawn from its user's mixture at that time; the
    engine-like evidence puts 0.7 on the drawn topic and 0.2 on a random other
    (0.1 is "no topic"). Returns users, ts, the batch, the true final mixtures.
    """
    rng = np.random.default_rng(seed)
    n_users, n_topics, n_posts, span = 300, 12, 30_000, 60 * DAY
    start = rng.dirichlet(np.full(n_topics, 0.3), n_users)
    end = rng.dirichlet(np.full(n_topics, 0.3), n_users)
    ts = np.sort(rng.uniform(0, span, n_posts))
    who = rng.integers(0, n_users, n_posts)
    a = (ts / span)[:, None]
    mix = (1 - a) * start[who] + a * end[who]
    cum = mix.cumsum(axis=1)
    topic = (rng.random(n_posts)[:, None] > cum).sum(axis=1) + 1
    other = (topic - 1 + rng.integers(1, n_topics, n_posts)) % n_topics + 1
    res = result(
        topic.tolist(),
        ids=np.c_[topic, other].tolist(),
        probs=np.tile([0.7, 0.2], (n_posts, 1)).tolist(),
    )
    return [f"u{u}" for u in who], ts, res, end, n_topics


def profile_matrix(prof: UserInterests, n_users: int, n_topics: int) -> np.ndarray:
    out = np.zeros((n_users, n_topics))
    for u in range(n_users):
        p = prof.profile(f"u{u}")
        assert p is not None
        for t, s in zip(p.topic_ids, p.shares, strict=True):
            out[u, t - 1] = s
    return out


def test_shares_track_known_drifting_mixtures_better_than_undecayed_counts() -> None:
    users, ts, res, truth, k = drifting_stream()
    figures = {}
    for name, half_life in (("decayed", 7 * DAY), ("undecayed", 1e12)):
        prof = UserInterests(4, InterestSettings(half_life_s=half_life))
        for s in range(0, len(ts), 500):  # micro-batches
            part = BatchResult(
                res.topic_ids[s : s + 500],
                res.similarity[s : s + 500],
                res.topk_ids[s : s + 500],
                res.topk_probs[s : s + 500],
            )
            prof.observe(users[s : s + 500], ts[s : s + 500], vecs(len(part.topic_ids)), part)
        est = profile_matrix(prof, truth.shape[0], k)
        # The evidence spreads 0.2 of each post over a random other topic: so does the truth.
        expected = (0.7 * truth + 0.2 * (1 - truth) / (k - 1)) / 0.9
        figures[name] = float(jsd(est, expected).mean())
    print(f"mean JSD(p_u, truth) over 300 users: {figures}")
    # Measured 0.051 (7-day half-life) against 0.101 undecayed (docs/interests.md).
    assert figures["decayed"] < 0.07
    assert figures["decayed"] < 0.6 * figures["undecayed"]


def test_a_batch_keeps_its_own_users_while_evicting_and_refuses_what_cannot_fit() -> None:
    prof = UserInterests(4, InterestSettings(max_users=3))
    prof.observe(["a", "b", "c"], np.array([0.0, 1.0, 2.0]), vecs(3), result([1, 1, 1]))
    # "a" is the least recently seen, but it posts again in the batch that brings "d".
    prof.observe(["a", "d"], np.array([3.0, 3.0]), vecs(2), result([1, 1]))
    assert set(prof.slots) == {"a", "c", "d"}
    p = prof.profile("a")
    assert p is not None and p.posts == 2
    with pytest.raises(ValueError, match="does not fit"):
        prof.observe(["w", "x", "y", "z"], np.full(4, 5.0), vecs(4), result([1] * 4))
