"""The outlier buffer: documents that fit no topic wait here until enough agree.

A topic is born from the buffer only when at least ``min_size`` documents are
mutually similar (a seed with ``min_size - 1`` neighbours at the birth
threshold). This is micro-clustering of the buffer, kept incremental: each
document's neighbour count is updated with one matrix product per batch
against the buffer, never recomputed pairwise from scratch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class BufferedDocs:
    """Documents taken out of the buffer to form (or join) a topic."""

    emb: np.ndarray
    ts: np.ndarray
    doc_ids: list[str]
    texts: list[str]
    terms: list[list[str]]
    batch_pos: np.ndarray  # position in the current batch, -1 for earlier batches


class OutlierBuffer:
    """A bounded, event-time-expiring pool of unassigned documents."""

    def __init__(self, dim: int, capacity: int, ttl_s: float, threshold: float) -> None:
        self.dim = dim
        self.capacity = capacity
        self.ttl_s = ttl_s
        self.threshold = threshold
        self.emb = np.zeros((0, dim), dtype=np.float32)
        self.ts = np.zeros(0, dtype=np.float64)
        self.neighbours = np.zeros(0, dtype=np.int64)
        self.batch_pos = np.zeros(0, dtype=np.int64)
        self.doc_ids: list[str] = []
        self.texts: list[str] = []
        self.terms: list[list[str]] = []

    def __len__(self) -> int:
        return len(self.ts)

    def add(
        self,
        emb: np.ndarray,
        ts: np.ndarray,
        doc_ids: list[str],
        texts: list[str],
        terms: list[list[str]],
        batch_pos: np.ndarray,
    ) -> None:
        """Append a batch's unassigned documents and update neighbour counts."""
        self.batch_pos[:] = -1  # earlier entries no longer belong to the current batch
        if len(ts) == 0:
            return
        emb = np.ascontiguousarray(emb, dtype=np.float32)
        close_old = (emb @ self.emb.T) >= self.threshold if len(self) else None
        close_new = (emb @ emb.T) >= self.threshold
        new_counts = close_new.sum(axis=1) - 1  # minus itself
        if close_old is not None:
            self.neighbours += close_old.sum(axis=0)
            new_counts += close_old.sum(axis=1)
        self.emb = np.concatenate([self.emb, emb])
        self.ts = np.concatenate([self.ts, ts])
        self.neighbours = np.concatenate([self.neighbours, new_counts])
        self.batch_pos = np.concatenate([self.batch_pos, batch_pos])
        self.doc_ids.extend(doc_ids)
        self.texts.extend(texts)
        self.terms.extend(terms)

    def expire(self, now: float) -> int:
        """Drop documents older than the TTL, then the oldest beyond capacity; return how many."""
        drop = self.ts < now - self.ttl_s
        over = int((~drop).sum()) - self.capacity
        if over > 0:  # still over capacity after the TTL: drop the oldest survivors
            survivors = np.flatnonzero(~drop)
            drop[survivors[np.argsort(self.ts[survivors], kind="stable")[:over]]] = True
        if drop.any():
            self._remove(np.flatnonzero(drop))
        return int(drop.sum())

    def pop_groups(self, min_size: int, join_threshold: float) -> list[BufferedDocs]:
        """Remove and return every group of at least ``min_size`` agreeing documents.

        The densest document seeds a group with its neighbours; the group's
        centroid then gathers every buffered document within
        ``join_threshold`` of it (the same rule that joins a live topic).
        """
        groups = []
        while len(self) >= min_size and self.neighbours.max() + 1 >= min_size:
            seed = int(np.argmax(self.neighbours))
            core = np.flatnonzero(self.emb @ self.emb[seed] >= self.threshold)
            centroid = self.emb[core].mean(axis=0)
            centroid /= np.linalg.norm(centroid)
            members = np.flatnonzero(self.emb @ centroid >= join_threshold)
            members = np.union1d(members, core)
            if len(members) < min_size:  # cannot happen with join <= birth, kept as a guard
                members = core
            groups.append(self._take(members))
        return groups

    def _take(self, idx: np.ndarray) -> BufferedDocs:
        docs = BufferedDocs(
            emb=self.emb[idx].copy(),
            ts=self.ts[idx].copy(),
            doc_ids=[self.doc_ids[i] for i in idx],
            texts=[self.texts[i] for i in idx],
            terms=[self.terms[i] for i in idx],
            batch_pos=self.batch_pos[idx].copy(),
        )
        self._remove(idx)
        return docs

    def _remove(self, idx: np.ndarray) -> None:
        keep = np.ones(len(self), dtype=bool)
        keep[idx] = False
        if keep.any():
            lost = (self.emb[keep] @ self.emb[idx].T) >= self.threshold
            self.neighbours = self.neighbours[keep] - lost.sum(axis=1)
        else:
            self.neighbours = self.neighbours[keep]
        self.emb = self.emb[keep]
        self.ts = self.ts[keep]
        self.batch_pos = self.batch_pos[keep]
        kept = np.flatnonzero(keep).tolist()
        self.doc_ids = [self.doc_ids[i] for i in kept]
        self.texts = [self.texts[i] for i in kept]
        self.terms = [self.terms[i] for i in kept]

    # -- snapshot ----------------------------------------------------------
    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Arrays and lists that rebuild this buffer exactly."""
        arrays = {"emb": self.emb, "ts": self.ts, "neighbours": self.neighbours}
        meta = {
            "doc_ids": list(self.doc_ids),
            "texts": list(self.texts),
            "terms": [list(t) for t in self.terms],
        }
        return arrays, meta

    def load(self, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
        """Replace the contents with :meth:`state` output (none of it in the current batch)."""
        self.emb = np.asarray(arrays["emb"], dtype=np.float32).reshape(-1, self.dim)
        self.ts = np.asarray(arrays["ts"], dtype=np.float64)
        self.neighbours = np.asarray(arrays["neighbours"], dtype=np.int64)
        self.batch_pos = np.full(len(self.ts), -1, dtype=np.int64)
        self.doc_ids = list(meta["doc_ids"])
        self.texts = list(meta["texts"])
        self.terms = [list(t) for t in meta["terms"]]
