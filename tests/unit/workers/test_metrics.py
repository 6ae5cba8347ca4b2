"""Clustering and topic-word yardsticks against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from workers.metrics import (
    bcubed,
    npmi_coherence,
    partition_scores,
    singletonise,
    topic_diversity,
)


def test_perfect_clustering_scores_one() -> None:
    labels = ["a", "a", "b", "b", "b"]
    pred = np.array([7, 7, 3, 3, 3])
    assert bcubed(labels, pred) == pytest.approx((1.0, 1.0, 1.0))
    scores = partition_scores(labels, pred)
    assert scores["ami"] == pytest.approx(1.0)
    assert scores["ari"] == pytest.approx(1.0)


def test_bcubed_matches_the_per_document_definition() -> None:
    labels = ["a", "a", "a", "b", "b"]
    pred = np.array([1, 1, 2, 2, 2])
    # precision: a1,a2 -> 1; a3 -> 1/3; b1,b2 -> 2/3 ; recall: a1,a2 -> 2/3; a3 -> 1/3; b -> 1
    p = (1 + 1 + 1 / 3 + 2 / 3 + 2 / 3) / 5
    r = (2 / 3 + 2 / 3 + 1 / 3 + 1 + 1) / 5
    got = bcubed(labels, pred)
    assert got[0] == pytest.approx(p)
    assert got[1] == pytest.approx(r)
    assert got[2] == pytest.approx(2 * p * r / (p + r))


def test_unassigned_documents_are_singletons() -> None:
    assert singletonise(np.array([-1, 4, -1])).tolist() == [5, 4, 6]
    # Two unassigned docs of one label do not count as clustered together.
    p, r, _ = bcubed(["a", "a"], np.array([-1, -1]))
    assert p == 1.0 and r == 0.5


def test_npmi_is_high_for_cooccurring_words_and_minus_one_for_disjoint() -> None:
    docs = [{"flood", "river"}] * 5 + [{"fire", "smoke"}] * 5
    assert npmi_coherence([["flood", "river"]], docs) == pytest.approx(1.0)
    assert npmi_coherence([["flood", "smoke"]], docs) == pytest.approx(-1.0)


def test_topic_diversity_is_the_share_of_unique_words() -> None:
    assert topic_diversity([["a", "b"], ["b", "c"]]) == pytest.approx(0.75)
    assert topic_diversity([]) == 0.0
