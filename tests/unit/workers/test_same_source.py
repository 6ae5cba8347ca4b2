"""The expected cosine between two sample means of one source."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit.workers.synthetic import centres, posts
from workers.same_source import expected_same_source_cosine, same_topic_threshold


@pytest.mark.parametrize("n1,n2", [(5, 5), (20, 200), (100, 100)])
def test_formula_matches_simulation(n1: int, n2: int) -> None:
    c = centres(1, seed=1)[0]
    sims, expect = [], []
    for k in range(40):
        x = posts(c, n1 + n2, seed=k, noise=0.06)
        a, b = x[:n1].mean(0), x[n1:].mean(0)
        sims.append(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
        expect.append(expected_same_source_cosine(n1, a @ a, n2, b @ b))
    assert np.mean(sims) == pytest.approx(np.mean(expect), abs=0.01)


def test_threshold_rises_with_sample_size_and_respects_the_floor() -> None:
    small = same_topic_threshold(5, 0.5, 5, 0.5, slack=1.5, floor=0.0)
    large = same_topic_threshold(500, 0.45, 500, 0.45, slack=1.5, floor=0.0)
    assert small < large < 1.0
    assert same_topic_threshold(2, 0.6, 2, 0.6, slack=1.5, floor=0.6) == pytest.approx(0.6)
