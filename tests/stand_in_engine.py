"""A tiny stand-in topic engine for tests that need *an* engine, not ours.

It honours the engine contract of ``workers.topic_types`` (batch results,
topic views, late assignments, lineage, snapshots; the contract suite in
``tests/unit/workers/test_engine_contract.py`` holds it to that) with a
trivial greedy rule, so the track logic is tested without the real engine.
Its topic ids start at 0.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np

from workers.topic_types import UNASSIGNED, BatchResult, LateAssignment, LineageEvent, TopicView

#: Width of the stand-in's top-k lists: its topic and one padding slot.
TOP_K = 2


class StandInEngine:
    """Greedy nearest centroid; a doc below ``threshold`` waits until ``birth`` such docs."""

    name = "stand-in"

    def __init__(self, dim: int = 4, threshold: float = 0.8, birth: int = 2) -> None:
        self.dim = dim
        self.threshold = threshold
        self.birth = birth
        self.centroids: list[np.ndarray] = []
        self.sizes: list[int] = []
        self.versions: list[int] = []
        self.born: list[float] = []
        self.buffer: list[tuple[str, np.ndarray]] = []
        self._last = 0.0

    @property
    def last_ts(self) -> float:
        return self._last

    def learn_many(
        self,
        embeddings: np.ndarray,
        ts: np.ndarray,
        texts: list[str],
        doc_ids: list[str] | None = None,
        terms: list[list[str]] | None = None,
    ) -> BatchResult:
        """One post at a time: join the nearest topic at ``threshold`` or wait (terms unused)."""
        n = len(embeddings)
        if doc_ids is None:
            doc_ids = [str(i) for i in range(n)]
        ids = np.full(n, UNASSIGNED, np.int64)
        sims = np.zeros(n, np.float32)
        changed: set[int] = set()
        late: list[LateAssignment] = []
        lineage: list[LineageEvent] = []
        for i, x in enumerate(embeddings):
            j, s = self._nearest(x)
            if s >= self.threshold:
                ids[i], sims[i] = j, s
                self.sizes[j] += 1
                changed.add(j)
                continue
            self.buffer.append((doc_ids[i], x))
            if len(self.buffer) >= self.birth:
                tid = len(self.centroids)
                self.centroids.append(np.mean([v for _, v in self.buffer], axis=0))
                self.sizes.append(len(self.buffer))
                self.versions.append(0)
                self.born.append(float(ts[i]))
                late.append(
                    LateAssignment(
                        [d for d, _ in self.buffer], tid, np.ones(len(self.buffer), np.float32)
                    )
                )
                lineage.append(LineageEvent("born", tid, float(ts[i])))
                self.buffer.clear()
                changed.add(tid)
        for j in changed:
            self.versions[j] += 1
        if n:
            self._last = max(self._last, float(np.max(ts)))
        topk, probs = self._topk(ids)
        return BatchResult(ids, sims, topk, probs, late, sorted(changed), lineage)

    def predict_many(self, embeddings: np.ndarray) -> BatchResult:
        """The topic each post would join now, without learning."""
        n = len(embeddings)
        ids = np.full(n, UNASSIGNED, np.int64)
        sims = np.zeros(n, np.float32)
        for i, x in enumerate(embeddings):
            j, s = self._nearest(x)
            if s >= self.threshold:
                ids[i], sims[i] = j, s
        topk, probs = self._topk(ids)
        return BatchResult(ids, sims, topk, probs)

    def _nearest(self, x: np.ndarray) -> tuple[int, float]:
        if not self.centroids:
            return UNASSIGNED, -np.inf
        s = np.stack(self.centroids) @ x
        j = int(np.argmax(s))
        return j, float(s[j])

    @staticmethod
    def _topk(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        topk = np.full((len(ids), TOP_K), UNASSIGNED, np.int64)
        topk[:, 0] = ids
        probs = np.zeros((len(ids), TOP_K), np.float32)
        probs[:, 0] = (ids != UNASSIGNED).astype(np.float32)
        return topk, probs

    def topic(self, topic_id: int) -> TopicView:
        if not 0 <= topic_id < len(self.centroids):
            raise KeyError(f"no topic {topic_id}")
        return TopicView(
            topic_id=topic_id,
            version=self.versions[topic_id],
            born_at=self.born[topic_id],
            updated_at=self._last,
            size=self.sizes[topic_id],
            weight=float(self.sizes[topic_id]),
            centroid=self.centroids[topic_id],
            keywords=[f"kw{topic_id}"],
            keyword_scores=[1.0],
            label=f"topic {topic_id}",
            status="active",
        )

    def topics(self, include_inactive: bool = False) -> list[TopicView]:
        return sorted((self.topic(j) for j in range(len(self.centroids))), key=lambda v: -v.weight)

    def stats(self) -> dict[str, float]:
        return {"topics": float(len(self.centroids)), "buffered": float(len(self.buffer))}

    def snapshot(self) -> bytes:
        return pickle.dumps(self.__dict__)

    @classmethod
    def restore(cls, blob: bytes) -> StandInEngine:
        eng = cls()
        eng.__dict__.update(pickle.loads(blob))
        return eng


def make_stand_in(name: str, dim: int = 4, **params: Any) -> StandInEngine:
    """``make_engine``'s signature: the name is ignored."""
    return StandInEngine(dim=dim, **params)
