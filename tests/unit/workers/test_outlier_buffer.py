"""The outlier buffer's micro-clustering and expiry."""

from __future__ import annotations

import numpy as np

from tests.unit.workers.synthetic import DIM, centres, posts
from workers.outlier_buffer import OutlierBuffer


def fill(buf: OutlierBuffer, x: np.ndarray, t: float) -> None:
    n = len(x)
    buf.add(x, np.full(n, t), [f"d{t}-{i}" for i in range(n)], ["t"] * n, [["w"]] * n, np.arange(n))


def test_a_group_pops_only_when_enough_posts_agree() -> None:
    buf = OutlierBuffer(DIM, capacity=100, ttl_s=3600, threshold=0.5)
    c = centres(2, seed=1)
    fill(buf, posts(c[0], 4), 0.0)
    fill(buf, posts(c[1], 2, seed=3), 0.0)
    assert buf.pop_groups(min_size=5, join_threshold=0.3) == []
    fill(buf, posts(c[0], 1, seed=5), 1.0)
    groups = buf.pop_groups(min_size=5, join_threshold=0.3)
    assert len(groups) == 1 and len(groups[0].doc_ids) == 5
    assert len(buf) == 2
    # Neighbour counts stay consistent after removal.
    assert buf.neighbours.tolist() == [1, 1]


def test_expiry_by_event_time_and_capacity() -> None:
    buf = OutlierBuffer(DIM, capacity=3, ttl_s=100, threshold=0.5)
    x = centres(5, seed=2)
    fill(buf, x[:2], 0.0)
    fill(buf, x[2:], 50.0)
    assert buf.expire(now=120.0) == 2  # the two at t=0 are past the TTL
    assert len(buf) == 3
    fill(buf, centres(1, seed=9), 130.0)
    assert buf.expire(now=130.0) == 1  # over capacity: the oldest goes
    assert buf.ts.min() == 50.0
