"""A fixed-size ring of recently assigned documents (all topics together).

Drift handling needs a topic's *recent* posts: to test a split and to
refresh a centroid. One shared ring (float16 vectors) gives every topic its
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

    def add(self, emb: np.ndarray, topic_ids: np.ndarray, ts: np.ndarray) -> None:
        n = len(ts)
        if n == 0:
            return
        if n > self.capacity:  # only the newest fit
            emb, topic_ids, ts = emb[-self.capacity :], topic_ids[-self.capacity :], ts[-self.capacity :]
            n = self.capacity
        idx = (self.pos + np.arange(n)) % self.capacity
        self.emb[idx] = emb
        self.topic[idx] = topic_ids
        self.ts[idx] = ts
        self.pos = int((self.pos + n) % self.capacity)

    def of_topic(self, topic_id: int) -> np.ndarray:
        """Ring indices holding ``topic_id``'s recent posts."""
        return np.flatnonzero(self.topic == topic_id)

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
