"""A fixed-size ring of recently assigned documents (all topics together).

Drift handling needs a topic's *recent* posts: to test a split and to
refresh a centroid; a newborn topic takes back the recent posts of older
topics that fit it better (so their document ids are kept too). One shared
ring gives every topic its latest posts with memory fixed at ``capacity``
documents, however many topics exist.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from workers.topic_types import UNASSIGNED


class RecentDocs:
    """Ring buffer of (embedding, topic id, event time, document id)."""

    def __init__(self, dim: int, capacity: int) -> None:
        self.capacity = capacity
        self.emb = np.zeros((capacity, dim), dtype=np.float16)
        self.topic = np.full(capacity, UNASSIGNED, dtype=np.int64)
        self.ts = np.zeros(capacity, dtype=np.float64)
        self.doc_ids = np.full(capacity, "", dtype=object)
        self.pos = 0  # next write position

    def add(
        self,
        emb: np.ndarray,
        topic_ids: np.ndarray,
        ts: np.ndarray,
        doc_ids: Sequence[str] | None = None,
    ) -> np.ndarray:
        """Store documents; return each one's ring position (-1: did not fit)."""
        n = len(ts)
        positions = np.full(n, -1, dtype=np.int64)
        if n == 0:
            return positions
        ids = np.asarray(doc_ids if doc_ids is not None else [""] * n, dtype=object)
        skip = max(0, n - self.capacity)  # only the newest fit
        emb, topic_ids, ts, ids = emb[skip:], topic_ids[skip:], ts[skip:], ids[skip:]
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
            self.doc_ids[dst] = ids[src]
        self.pos = int((self.pos + n) % self.capacity)
        return positions

    def of_topic(self, topic_id: int) -> np.ndarray:
        """Ring indices holding ``topic_id``'s recent posts, oldest first."""
        idx = np.flatnonzero(self.topic == topic_id)
        return idx[np.argsort(self.ts[idx], kind="stable")]

    def relabel(self, old: int, new: int) -> None:
        """Posts of a merged-away topic now belong to its survivor."""
        self.topic[self.topic == old] = new

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The ring's arrays (the write position included)."""
        arrays = {
            "emb": self.emb,
            "topic": self.topic,
            "ts": self.ts,
            # Fixed-width unicode, not objects: snapshots are loaded without pickle.
            "doc_ids": self.doc_ids.astype(str),
            "pos": np.array([self.pos]),
        }
        return arrays, {}

    def load(self, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
        """Replace the ring with :meth:`state` output (its capacity included)."""
        self.emb = np.asarray(arrays["emb"], dtype=np.float16).copy()
        self.topic = np.asarray(arrays["topic"], dtype=np.int64).copy()
        self.ts = np.asarray(arrays["ts"], dtype=np.float64).copy()
        self.capacity = len(self.ts)
        # Snapshots written before document ids were kept have none: such
        # posts can still move between topics, without a late assignment.
        ids = arrays.get("doc_ids")
        if ids is None:
            self.doc_ids = np.full(self.capacity, "", dtype=object)
        else:
            self.doc_ids = np.asarray(ids).astype(object)
        self.pos = int(arrays["pos"][0])
