"""Fixed-width sparse rows: per row at most ``width`` (id, mass, last time) cells.

The store behind user profiles: a user's topics (or terms) are one row, so
memory is ``rows x width`` whatever the stream does, and every update of a
batch is a handful of array operations instead of a Python loop per post.
A full row makes room by evicting its lightest cell, if the newcomer is
heavier; masses are forward-decayed (:mod:`workers.forward_decay`), so
"lighter" compares decayed values correctly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

#: Id of an empty cell.
EMPTY = -1


class SparseRows:
    """``rows x width`` cells of (id, mass, last event time); ``EMPTY`` ids are free.

    Examples
    --------
    >>> import numpy as np
    >>> from workers.sparse_rows import SparseRows
    >>> table = SparseRows(rows=2, width=2)
    >>> table.add(np.array([0, 0, 0]), np.array([7, 8, 7]), np.array([1.0, 0.5, 1.0]),
    ...           np.array([10.0, 11.0, 12.0]))
    >>> table.row(0)
    ([7, 8], [2.0, 0.5])
    >>> table.add(np.array([0]), np.array([9]), np.array([1.0]), np.array([13.0]))
    >>> table.row(0)  # full: 9 evicts the lightest cell (8)
    ([7, 9], [2.0, 1.0])
    """

    def __init__(self, rows: int, width: int) -> None:
        self.width = width
        self.ids = np.full((rows, width), EMPTY, dtype=np.int64)
        self.mass = np.zeros((rows, width), dtype=np.float64)
        self.last = np.zeros((rows, width), dtype=np.float64)

    @property
    def rows(self) -> int:
        return self.ids.shape[0]

    def add(self, rows: np.ndarray, ids: np.ndarray, mass: np.ndarray, ts: np.ndarray) -> None:
        """Add ``mass`` to cell ``ids`` of ``rows`` (negative mass takes away, never creates)."""
        if len(rows) == 0:
            return
        keys = np.stack([np.asarray(rows, np.int64), np.asarray(ids, np.int64)], axis=1)
        pairs, inv = np.unique(keys, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        m = np.bincount(inv, weights=np.asarray(mass, np.float64), minlength=len(pairs))
        last = np.full(len(pairs), -np.inf)
        np.maximum.at(last, inv, np.asarray(ts, np.float64))
        r, i = pairs[:, 0], pairs[:, 1]
        hit = self.ids[r] == i[:, None]
        found = hit.any(axis=1)
        col = hit.argmax(axis=1)
        rf, cf = r[found], col[found]
        self.mass[rf, cf] += m[found]
        self.last[rf, cf] = np.maximum(self.last[rf, cf], last[found])
        new = ~found & (m > 0)
        self._place(r[new], i[new], m[new], last[new])
        self._clear(self.mass <= 0)

    def _place(self, r: np.ndarray, i: np.ndarray, m: np.ndarray, last: np.ndarray) -> None:
        """Put new cells in free or lighter slots, heaviest first, one per row per round."""
        order = np.lexsort((-m, r))
        r, i, m, last = r[order], i[order], m[order], last[order]
        while len(r):
            rows, first = np.unique(r, return_index=True)
            # Free cells rank below every occupied one; otherwise the lightest goes.
            cost = np.where(self.ids[rows] == EMPTY, -np.inf, self.mass[rows])
            col = cost.argmin(axis=1)
            fits = cost[np.arange(len(rows)), col] < m[first]
            rr, cc, ff = rows[fits], col[fits], first[fits]
            self.ids[rr, cc] = i[ff]
            self.mass[rr, cc] = m[ff]
            self.last[rr, cc] = last[ff]
            # The rest of a row whose heaviest newcomer did not fit cannot fit either.
            drop = np.zeros(len(r), dtype=bool)
            drop[first] = True
            drop |= np.isin(r, rows[~fits])
            r, i, m, last = r[~drop], i[~drop], m[~drop], last[~drop]

    def _clear(self, cells: np.ndarray) -> None:
        self.ids[cells] = EMPTY
        self.mass[cells] = 0.0
        self.last[cells] = 0.0

    def rename(self, old: int, new: int) -> None:
        """Move every ``old`` cell's mass into ``new`` (a merge), in every row."""
        rows, cols = np.nonzero(self.ids == old)
        if len(rows) == 0:
            return
        mass, last = self.mass[rows, cols].copy(), self.last[rows, cols].copy()
        self._clear(self.ids == old)
        self.add(rows, np.full(len(rows), new), mass, last)

    def drop_ids(self, ids: np.ndarray) -> None:
        """Forget ``ids`` in every row (archived topics)."""
        self._clear(np.isin(self.ids, ids) & (self.ids != EMPTY))

    def prune(self, rows: np.ndarray, eps: float) -> None:
        """Clear cells of ``rows`` holding under ``eps`` of their row's mass."""
        if len(rows) == 0:
            return
        total = self.mass[rows].sum(axis=1, keepdims=True)
        small = (self.mass[rows] < eps * total) & (self.ids[rows] != EMPTY)
        cells = np.zeros_like(self.ids, dtype=bool)
        cells[rows] = small
        self._clear(cells)

    def reset(self, rows: np.ndarray) -> None:
        """Empty ``rows`` (a slot given to another user)."""
        self.ids[rows] = EMPTY
        self.mass[rows] = 0.0
        self.last[rows] = 0.0

    def scale(self, factor: float) -> None:
        """Multiply every mass (the forward-decay landmark moved)."""
        self.mass *= factor

    def grow(self, rows: int) -> None:
        """Make room for ``rows`` rows in all (new rows empty)."""
        extra = rows - self.rows
        if extra <= 0:
            return
        self.ids = np.vstack([self.ids, np.full((extra, self.width), EMPTY, np.int64)])
        self.mass = np.vstack([self.mass, np.zeros((extra, self.width))])
        self.last = np.vstack([self.last, np.zeros((extra, self.width))])

    def row(self, r: int) -> tuple[list[int], list[float]]:
        """Ids and masses of row ``r``, heaviest first (empty cells left out)."""
        keep = self.ids[r] != EMPTY
        order = np.argsort(-self.mass[r][keep], kind="stable")
        return self.ids[r][keep][order].tolist(), self.mass[r][keep][order].tolist()

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        return {"ids": self.ids, "mass": self.mass, "last": self.last}, {"width": self.width}

    def load(self, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
        self.width = int(meta["width"])
        self.ids = np.array(arrays["ids"], dtype=np.int64)
        self.mass = np.array(arrays["mass"], dtype=np.float64)
        self.last = np.array(arrays["last"], dtype=np.float64)
