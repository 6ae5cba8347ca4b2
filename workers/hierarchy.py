"""Topic hierarchy on demand: average-linkage agglomeration over topic centroids."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.cluster.hierarchy import linkage


def topic_hierarchy(
    ids: np.ndarray, centroids: np.ndarray, labels: dict[int, str]
) -> dict[str, Any]:
    """Return a nested tree ``{"children": [...], "distance": d}`` with topics as leaves.

    Distances are cosine distances (1 - cosine); average linkage keeps a
    parent's distance the mean over its members' pairs, so a parent reads
    as "these topics are this far apart on average".
    """
    ids = np.asarray(ids, dtype=np.int64)
    leaves = [{"topic_id": int(t), "label": labels.get(int(t), str(t))} for t in ids]
    if len(ids) == 0:
        return {"children": [], "distance": 0.0}
    if len(ids) == 1:
        return {"children": leaves, "distance": 0.0}
    z = linkage(np.asarray(centroids, dtype=np.float64), method="average", metric="cosine")
    nodes: list[dict[str, Any]] = list(leaves)
    for a, b, dist, _count in z.tolist():
        nodes.append({"children": [nodes[int(a)], nodes[int(b)]], "distance": float(dist)})
    return nodes[-1]
