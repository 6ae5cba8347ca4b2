"""Per-topic drift detection (river.drift) and the split test it triggers.

Each live topic has a detector fed with the mean cosine of the documents it
received in a batch: one update per topic per batch, not per document, so the
detectors cost nothing next to the matrix products. A detected change means
the topic's recent posts no longer sit where its centroid says; the engine
then either splits the topic (its recent posts form two separate groups) or
refreshes its centroid from them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from river import drift


def make_detector(kind: str) -> drift.ADWIN | drift.PageHinkley | None:
    """A fresh detector of the configured kind (``None`` disables drift checks)."""
    if kind == "adwin":
        return drift.ADWIN()
    if kind == "page-hinkley":
        # Watch for the similarity going *down*: posts moving away from the centroid.
        return drift.PageHinkley(mode="down", min_instances=10, threshold=0.5)
    return None


class DriftMonitor:
    """One detector per topic id; returns the topics whose similarity changed."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.detectors: dict[int, drift.ADWIN | drift.PageHinkley] = {}

    def update(self, topic_ids: np.ndarray, mean_sims: np.ndarray) -> list[int]:
        if self.kind == "none":
            return []
        drifted = []
        for t, s in zip(topic_ids.tolist(), mean_sims.tolist(), strict=True):
            det = self.detectors.get(t)
            if det is None:
                det = self.detectors[t] = make_detector(self.kind)
            det.update(s)
            if det.drift_detected:
                drifted.append(t)
        return drifted

    def reset(self, topic_id: int) -> None:
        self.detectors.pop(topic_id, None)


@dataclass
class SplitPlan:
    """Which recent posts of a drifted topic leave with the new child."""

    child_rows: np.ndarray  # indices into the posts given to plan_split
    parent_rows: np.ndarray
    separation: float  # cosine between the two halves' centroids


def plan_split(emb: np.ndarray, min_size: int, threshold: float, iters: int = 10) -> SplitPlan | None:
    """2-means over a topic's recent posts; a plan when the halves are apart.

    Seeds are the post farthest from the mean and the post farthest from
    that one, so the result is deterministic. The smaller half becomes the
    child. Returns ``None`` when either half is smaller than ``min_size`` or
    the halves' centroids are at least ``threshold`` similar (one topic).
    """
    if len(emb) < 2 * min_size:
        return None
    x = emb.astype(np.float32, copy=False)
    mean = x.mean(axis=0)
    a = int(np.argmin(x @ mean))
    b = int(np.argmin(x @ x[a]))
    centers = np.stack([x[a], x[b]])
    labels = np.zeros(len(x), dtype=np.int64)
    for _ in range(iters):
        labels = np.argmax(x @ centers.T, axis=1)
        if labels.min() == labels.max():
            return None
        new = np.stack([x[labels == k].mean(axis=0) for k in (0, 1)])
        new /= np.linalg.norm(new, axis=1, keepdims=True)
        if np.allclose(new, centers):
            break
        centers = new
    sizes = np.bincount(labels, minlength=2)
    if sizes.min() < min_size:
        return None
    separation = float(centers[0] @ centers[1])
    if separation >= threshold:
        return None
    child = int(np.argmin(sizes))
    return SplitPlan(
        child_rows=np.flatnonzero(labels == child),
        parent_rows=np.flatnonzero(labels != child),
        separation=separation,
    )
