"""Fixtures for the streamer unit tests: a tiny stand-in topic engine.

The stand-in honours the engine contract of ``workers.topic_types`` (batch
results, topic views, late assignments, snapshots) with a trivial greedy
rule, so the track logic is tested without the real engine.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from workers.topic_types import UNASSIGNED, BatchResult, LateAssignment, TopicView


class StandInEngine:
    """Greedy nearest centroid; a doc below ``threshold`` waits until ``birth`` such docs."""

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

    def learn_many(self, embeddings, ts, texts, doc_ids=None) -> BatchResult:
        n = len(embeddings)
        ids = np.full(n, UNASSIGNED, np.int64)
        sims = np.zeros(n, np.float32)
        changed: set[int] = set()
        late: list[LateAssignment] = []
        for i, x in enumerate(embeddings):
            if self.centroids:
                s = np.stack(self.centroids) @ x
                j = int(np.argmax(s))
                if s[j] >= self.threshold:
                    ids[i], sims[i] = j, s[j]
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
                self.buffer.clear()
                changed.add(tid)
        for j in changed:
            self.versions[j] += 1
        self._last = max(self._last, float(np.max(ts)))
        topk = np.full((n, 2), UNASSIGNED, np.int64)
        topk[:, 0] = ids
        probs = np.zeros((n, 2), np.float32)
        probs[:, 0] = (ids != UNASSIGNED).astype(np.float32)
        return BatchResult(ids, sims, topk, probs, late, sorted(changed), [])

    def topic(self, topic_id: int) -> TopicView:
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


def make_stand_in(name: str, dim: int = 4, **params) -> StandInEngine:
    return StandInEngine(dim=dim, **params)


@pytest.fixture
def stand_in_factories():
    """``(make_engine, restore_engine)`` for :class:`streamer.pipeline.tracker.Tracker`."""
    return make_stand_in, StandInEngine.restore
