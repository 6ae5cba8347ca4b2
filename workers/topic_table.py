"""Per-topic metadata by topic id: birth, last post, size, status, lineage, version.

Ids start at 1 and are issued once (:meth:`TopicTable.new_id`); a topic that
merges away, goes dormant or is archived keeps its row, so an id means the
same topic forever. Columns are numpy arrays indexed by id (row 0 unused),
so the engine updates the rows of many topics in one array operation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from workers.topic_types import TopicStatus

ACTIVE, DORMANT, MERGED, ARCHIVED = 0, 1, 2, 3
#: What a status code is called in a :class:`~workers.topic_types.TopicView`:
#: an archived topic is a dormant one whose centroid was dropped.
STATUS_NAMES: dict[int, TopicStatus] = {
    ACTIVE: "active",
    DORMANT: "dormant",
    MERGED: "merged",
    ARCHIVED: "dormant",
}
#: Column -> (dtype, value of a row never written). -1: no lineage edge.
_COLUMNS: dict[str, tuple[type, int]] = {
    "born_at": (np.float64, 0),
    "updated_at": (np.float64, 0),
    "size": (np.int64, 0),
    "status": (np.int8, 0),
    "merged_into": (np.int64, -1),
    "split_from": (np.int64, -1),
    "version": (np.int64, 0),
}


class TopicTable:
    """Columns of per-topic metadata, indexed by topic id."""

    born_at: np.ndarray  # event time of the topic's first post
    updated_at: np.ndarray  # event time of its latest post
    size: np.ndarray  # posts ever assigned (less those split off or taken back)
    status: np.ndarray  # ACTIVE, DORMANT, MERGED or ARCHIVED
    merged_into: np.ndarray  # survivor of a merge, -1 if none
    split_from: np.ndarray  # parent of a split, -1 if none
    version: np.ndarray  # times the topic was published

    def __init__(self, capacity: int = 64) -> None:
        self.next_id = 1
        for name, (dtype, fill) in _COLUMNS.items():
            setattr(self, name, np.full(capacity, fill, dtype=dtype))

    def __contains__(self, topic_id: int) -> bool:
        """Was this id ever issued?"""
        return 1 <= topic_id < self.next_id

    @property
    def ids(self) -> range:
        """Every id issued so far."""
        return range(1, self.next_id)

    def new_id(self, born_at: float) -> int:
        """Issue the next id for an active topic born at ``born_at``."""
        tid = self.next_id
        self.next_id += 1
        self._grow(tid)
        self.born_at[tid] = born_at
        self.updated_at[tid] = born_at
        self.status[tid] = ACTIVE
        return tid

    def status_name(self, topic_id: int) -> TopicStatus:
        return STATUS_NAMES[int(self.status[topic_id])]

    def edge(self, column: str, topic_id: int) -> int | None:
        """The lineage edge ``merged_into`` or ``split_from`` of a topic (``None``: none)."""
        other = int(getattr(self, column)[topic_id])
        return other if other > 0 else None

    def _grow(self, need: int) -> None:
        """Make row ``need`` exist (doubling, so issuing ids is amortised O(1))."""
        size = len(self.size)
        if need < size:
            return
        new_size = max(need + 1, 2 * size)
        for name, (dtype, fill) in _COLUMNS.items():
            grown = np.full(new_size, fill, dtype=dtype)
            grown[:size] = getattr(self, name)
            setattr(self, name, grown)

    # -- snapshot ----------------------------------------------------------
    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The columns' issued rows and the next id."""
        arrays = {name: getattr(self, name)[: self.next_id] for name in _COLUMNS}
        return arrays, {"next_id": self.next_id}

    def load(self, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
        """Replace the table with :meth:`state` output."""
        self.next_id = int(meta["next_id"])
        for name, (dtype, _) in _COLUMNS.items():
            setattr(self, name, np.asarray(arrays[name], dtype=dtype).copy())
        self._grow(self.next_id)
