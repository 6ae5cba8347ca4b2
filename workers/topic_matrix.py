"""Dense, swap-compacted storage of topic centroids for batched matching.

The live set and the dormant set are each one of these: rows of decayed
embedding sums, unit centroids and decayed weights, addressed by topic id
through ``slot``. Removing a topic moves the last row into its place, so the
arrays stay contiguous and every match is one matrix product.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


class TopicMatrix:
    """Rows of (topic id, decayed sum, unit centroid, decayed weight).

    ``checked`` holds each row's centroid as it was at its last merge test
    (zeros: never tested), so only topics that moved are tested again.
    """

    def __init__(self, dim: int, capacity: int = 64) -> None:
        self.dim = dim
        self._allocate(capacity)

    def _allocate(self, capacity: int) -> None:
        """Empty rows for ``capacity`` topics."""
        dim = self.dim
        self.n = 0
        self.ids = np.zeros(capacity, dtype=np.int64)
        self.sums = np.zeros((capacity, dim), dtype=np.float64)
        self.centroids = np.zeros((capacity, dim), dtype=np.float32)
        self.weight = np.zeros(capacity, dtype=np.float64)
        self.checked = np.zeros((capacity, dim), dtype=np.float32)
        self.slot: dict[int, int] = {}

    def __len__(self) -> int:
        return self.n

    def __contains__(self, topic_id: int) -> bool:
        return topic_id in self.slot

    @property
    def live_ids(self) -> np.ndarray:
        return self.ids[: self.n]

    @property
    def live_centroids(self) -> np.ndarray:
        return self.centroids[: self.n]

    def add(self, topic_id: int, vec_sum: np.ndarray, weight: float) -> int:
        """Insert a topic and return its row."""
        if self.n == len(self.ids):
            self._grow()
        row = self.n
        self.ids[row] = topic_id
        self.sums[row] = vec_sum
        self.weight[row] = weight
        self.checked[row] = 0.0
        self.slot[topic_id] = row
        self.n += 1
        self.refresh_rows(np.array([row]))
        return row

    def remove(self, topic_id: int) -> tuple[np.ndarray, float]:
        """Take a topic out; return its (sum, weight)."""
        row = self.slot.pop(topic_id)
        out = (self.sums[row].copy(), float(self.weight[row]))
        last = self.n - 1
        if row != last:
            self.ids[row] = self.ids[last]
            self.sums[row] = self.sums[last]
            self.centroids[row] = self.centroids[last]
            self.weight[row] = self.weight[last]
            self.checked[row] = self.checked[last]
            self.slot[int(self.ids[row])] = row
        self.n -= 1
        return out

    def refresh_rows(self, rows: np.ndarray) -> None:
        """Recompute unit centroids of ``rows`` from their sums."""
        s = self.sums[rows]
        norm = np.linalg.norm(s, axis=1, keepdims=True)
        self.centroids[rows] = (s / np.maximum(norm, 1e-30)).astype(np.float32)

    def scale(self, factor: float) -> None:
        """Multiply sums and weights (the decay landmark moved)."""
        self.sums[: self.n] *= factor
        self.weight[: self.n] *= factor

    def _grow(self) -> None:
        cap = 2 * len(self.ids)
        for name in ("ids", "sums", "centroids", "weight", "checked"):
            old = getattr(self, name)
            new = np.zeros((cap, *old.shape[1:]), dtype=old.dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)

    # -- snapshot ----------------------------------------------------------
    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Arrays that rebuild the rows (centroids are recomputed from the sums)."""
        arrays = {
            "ids": self.ids[: self.n].copy(),
            "sums": self.sums[: self.n].copy(),
            "weight": self.weight[: self.n].copy(),
            "checked": self.checked[: self.n].copy(),
        }
        return arrays, {}

    def load(self, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
        """Replace every row with :meth:`state` output."""
        ids = np.asarray(arrays["ids"], dtype=np.int64)
        n = len(ids)
        self._allocate(max(64, n))
        self.n = n
        self.ids[:n] = ids
        self.sums[:n] = np.asarray(arrays["sums"], dtype=np.float64).reshape(-1, self.dim)
        self.weight[:n] = arrays["weight"]
        self.checked[:n] = np.asarray(arrays["checked"], dtype=np.float32).reshape(-1, self.dim)
        self.slot = {int(t): i for i, t in enumerate(ids)}
        if n:
            self.refresh_rows(np.arange(n))
