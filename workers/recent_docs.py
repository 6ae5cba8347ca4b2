"""A fixed-size ring of recently assigned documents (all topics together).

Drift handling needs a topic's *recent* posts: to test a split and to
refresh a centroid. One shared ring  gives every topic its
latest posts with memory fixed at ``capacity`` documents, however many topics
exist.
"""

from __future__ import annotations

import numpy as np

from workers.topic_types import UNASSIGNED


class RecentDocs:
    """Ring buffer of (embedding, topic id, event time)."""

    def __init__(self, dim: int, capacity: int) -> None:
        self.capacity = capacity
        self.emb = np.zeros((capacity, dim), dtype=np.float16)
        self.topic = np.full(capacity, UNASSIGNED, dtype=np.int64)
        self.ts = np.zeros(capacity, dtype=np.float64)
        self.pos = 0  # next write position

    def add(self, emb: np.ndarray, topic_ids: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """Store documents; return each one's ring position (-1: did not fit)."""
        n = len(ts)
        positions = np.full(n, -1, dtype=np.int64)
        if n == 0:
            return positions
        skip = max(0, n - self.capacity)  # only the newest fit
        emb, topic_ids, ts = emb[skip:], topic_ids[skip:], ts[skip:]
        n -= skip
        positions[skip:] = (self.pos + np.arange(n)) % self.capacity
        first = min(n, self.capacity - self.pos)  # contiguous slices, not fancy indexing
        for src, dst in (
            (slice(0, first), slice(self.pos, self.pos + first)),
            (slice(first, n), slice(0, n - first)),
        ):
            self.emb[dst] = emb[src]
            self.topic[dst] = topic_ids[src]
            self.ts[dst] = ts[src]
        self.pos = int((self.pos + n) % self.capacity)
        return positions

    def of_topic(self, topic_id: int) -> np.ndarray:
        """Ring indices holding ``topic_id``'s recent posts, oldest first."""
        idx = np.flatnonzero(self.topic == topic_id)
        return idx[np.argsort(self.ts[idx], kind="stable")]

    def relabel(self, old: int, new: int) -> None:
        """Posts of a merged-away topic now belong to its survivor."""
        self.topic[self.topic == old] = new

    def state(self) -> dict[str, np.ndarray]:
        return {"emb": self.emb, "topic": self.topic, "ts": self.ts, "pos": np.array([self.pos])}

    def load(self, state: dict[str, np.ndarray]) -> None:
        self.emb = np.asarray(state["emb"], dtype=np.float16).copy()
        self.topic = np.asarray(state["topic"], dtype=np.int64).copy()
        self.ts = np.asarray(state["ts"], dtype=np.float64).copy()
        self.capacity = len(self.ts)
        self.pos = int(state["pos"][0])
