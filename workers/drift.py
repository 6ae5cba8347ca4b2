"""Per-topic drift detection (river.drift) and the split test it triggers.

Each live topic has a detector fed with the cosine of every document it
receives to its centroid (river's detectors are compiled: about a
microsecond per update, measured). A detected change means
the topic's recent posts no longer sit where its centroid says; the engine
then either splits the topic (its recent posts form two separate groups) or
refreshes its centroid from them.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from river import drift


def make_detector(kind: str) -> drift.ADWIN | drift.PageHinkley | None:
    """A fresh detector of the configured kind (``None`` disables drift checks)."""
    if kind == "adwin":
        # clock=4: check every 4th post instead of river's default 32, so a
        # topic taken over by another story is caught within a few dozen posts.
        return drift.ADWIN(clock=4)
    if kind == "page-hinkley":
        # Watch for the similarity going *down*: posts moving away from the centroid.
        return drift.PageHinkley(mode="down", min_instances=10, threshold=0.5)
    return None


class DriftMonitor:
    """One detector per topic id; returns the topics whose similarity changed."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.detectors: dict[int, drift.ADWIN | drift.PageHinkley] = {}

    def update(self, topic_ids: np.ndarray, sims: np.ndarray) -> list[int]:
        """Feed each document's similarity to its topic's detector; return drifted topics."""
        if self.kind == "none" or len(topic_ids) == 0:
            return []
        drifted = set()
        detectors = self.detectors
        for t, s in zip(topic_ids.tolist(), sims.tolist(), strict=True):
            det = detectors.get(t)
            if det is None:
                det = detectors[t] = make_detector(self.kind)
            det.update(s)
            if det.drift_detected:
                drifted.add(t)
        return sorted(drifted)

    def reset(self, topic_id: int) -> None:
        self.detectors.pop(topic_id, None)

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The detectors as plain data: no pickle, so loading a checkpoint runs no code.

        ADWIN's window lives in river's compiled helper, whose state is bytes
        it serialises and parses itself; Page-Hinkley is a handful of numbers.
        """
        blobs: list[bytes] = []
        entries: list[dict[str, Any]] = []
        for topic, det in self.detectors.items():
            if isinstance(det, drift.ADWIN):
                raw = det._helper.__getstate__()
                entries.append(
                    {
                        "topic": int(topic),
                        "kind": "adwin",
                        "params": {k: getattr(det, k) for k in _ADWIN_PARAMS},
                        "detected": bool(det._drift_detected),
                        "bytes": len(raw),
                    }
                )
                blobs.append(raw)
            else:
                entries.append(
                    {
                        "topic": int(topic),
                        "kind": "page-hinkley",
                        "params": {k: getattr(det, k) for k in _PAGE_HINKLEY_PARAMS},
                        "detected": bool(det._drift_detected),
                        "mean": [det._x_mean.n, det._x_mean._mean],
                        "sums": [getattr(det, k) for k in _PAGE_HINKLEY_SUMS],
                    }
                )
        data = np.frombuffer(b"".join(blobs), dtype=np.uint8)
        return {"windows": data}, {"detectors": entries}

    def load(self, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
        """Replace the detectors with :meth:`state` output.

        Snapshots written before this format pickled the detectors; those are
        read with an unpickler that accepts river's detector classes only, so
        even an old checkpoint cannot run arbitrary code.
        """
        if "pickle" in arrays:
            self.detectors = _RiverOnlyUnpickler(io.BytesIO(arrays["pickle"].tobytes())).load()
            return
        data = arrays["windows"].tobytes()
        at = 0
        self.detectors = {}
        for e in meta["detectors"]:
            if e["kind"] == "adwin":
                det = drift.ADWIN(**e["params"])
                det._helper.__setstate__(data[at : at + e["bytes"]])
                det._drift_detected = e["detected"]
                at += e["bytes"]
            else:
                det = drift.PageHinkley(**e["params"])
                det._drift_detected = e["detected"]
                det._x_mean.n, det._x_mean._mean = e["mean"]
                for k, v in zip(_PAGE_HINKLEY_SUMS, e["sums"], strict=True):
                    setattr(det, k, v)
            self.detectors[int(e["topic"])] = det


#: ADWIN's constructor arguments (all that its compiled helper is built from).
_ADWIN_PARAMS = ("delta", "clock", "max_buckets", "min_window_length", "grace_period")
#: Page-Hinkley's constructor arguments and running sums (river 0.26).
_PAGE_HINKLEY_PARAMS = ("min_instances", "delta", "threshold", "alpha", "mode")
_PAGE_HINKLEY_SUMS = ("_sum_increase", "_sum_decrease", "_min_increase", "_max_decrease")


class _RiverOnlyUnpickler(pickle.Unpickler):
    """Reads the pickled detectors of old snapshots, refusing every other class."""

    ALLOWED = frozenset(
        {
            ("river.drift.adwin", "ADWIN"),
            ("river.drift.page_hinkley", "PageHinkley"),
            ("river._river_rust.drift", "AdaptiveWindowing"),
            ("river.stats.mean", "Mean"),
            ("copyreg", "__newobj__"),
            ("copyreg", "_reconstructor"),
            ("builtins", "object"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"snapshot refers to {module}.{name}: refused")
        return super().find_class(module, name)


@dataclass
class SplitPlan:
    """Which recent posts of a drifted topic leave with the new child."""

    child_rows: np.ndarray  # indices into the posts given to plan_split
    parent_rows: np.ndarray
    separation: float  # cosine between the two halves' centroids


def plan_split(
    emb: np.ndarray,
    ts: np.ndarray,
    min_size: int,
    threshold: float,
    successor_threshold: float,
    successor_auc: float = 0.75,
    iters: int = 10,
) -> SplitPlan | None:
    """2-means over a topic's recent posts; a plan when the halves are two stories.

    Seeds are the post farthest from the mean and the post farthest from
    that one, so the result is deterministic. The halves are two stories when
    their centroids are below ``threshold`` (clearly apart), or below
    ``successor_threshold`` while one half came clearly later in event time
    (the probability that a post of the later half is newer than one of the
    earlier half is at least ``successor_auc``): a new story taking over the
    topic. The child is the later half, so the topic id keeps the meaning it
    had. Returns ``None`` when either half has fewer than ``min_size`` posts.
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
    later = int(np.mean(ts[labels == 1]) > np.mean(ts[labels == 0]))
    auc = _later_auc(ts[labels == later], ts[labels != later])
    apart = separation < threshold
    successor = separation < successor_threshold and auc >= successor_auc
    if not (apart or successor):
        return None
    return SplitPlan(
        child_rows=np.flatnonzero(labels == later),
        parent_rows=np.flatnonzero(labels != later),
        separation=separation,
    )


def _later_auc(later: np.ndarray, earlier: np.ndarray) -> float:
    """P(a post of ``later`` is newer than a post of ``earlier``), ties counting half."""
    both = np.concatenate([later, earlier])
    ranks = _average_ranks(both)
    u = ranks[: len(later)].sum() - len(later) * (len(later) + 1) / 2
    return float(u / (len(later) * len(earlier)))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.arange(1, len(values) + 1)
    # Ties share their average rank.
    _, inv, counts = np.unique(values, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, weights=ranks)
    return (sums / counts)[inv]
