"""Per-topic event-time rates and the trending score.

Counts live in one-minute buckets (by default) of *event* time, like the ClickHouse
``topic_minute_counts`` table, so the live ranking here and the SQL ranking
(``schemas/queries/trending.sql``) compute the same thing from the same
counts. A topic trends when its count in the recent window beats what its
own baseline rate predicts for a window that long, by more than chance
would explain:

    expected = baseline_count * window / baseline
    score    = (window_count - expected) / sqrt(expected + 1)

a Poisson z-score with one pseudo-count, so a topic with no history needs a
real burst, not two posts, to rank. Topics below ``min_support`` posts in the
window never trend.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

MINUTE = 60.0


@dataclass(frozen=True)
class TrendSettings:
    """Windows (seconds, whole minutes) and the support floor of the trending score.

    Examples
    --------
    >>> from workers import TrendSettings
    >>> s = TrendSettings()
    >>> s.window_s / 60, s.baseline_s / 3600, s.min_support
    (15.0, 24.0, 5)
    >>> TrendSettings(window_s=90)
    Traceback (most recent call last):
    ...
    ValueError: window must be a whole number of 60 s buckets, got 90
    """

    window_s: float = 15 * MINUTE
    baseline_s: float = 24 * 3600.0
    min_support: int = 5
    #: Bucket width: one minute, as the ClickHouse table; coarser for long baselines.
    bucket_s: float = MINUTE

    def __post_init__(self) -> None:
        b = self.bucket_s
        if b < 1 or self.window_s < b or self.window_s % b:
            raise ValueError(
                f"window must be a whole number of {b:g} s buckets, got {self.window_s}"
            )
        if self.baseline_s < self.window_s or self.baseline_s % b:
            raise ValueError("baseline must be whole buckets, at least as long as the window")
        if self.min_support < 1:
            raise ValueError("min_support must be >= 1")


def trend_score(
    window_count: np.ndarray, baseline_count: np.ndarray, window_s: float, baseline_s: float
) -> np.ndarray:
    """The trending z-score (module docstring); vectorised over topics."""
    expected = np.asarray(baseline_count, dtype=np.float64) * (window_s / baseline_s)
    return (np.asarray(window_count, dtype=np.float64) - expected) / np.sqrt(expected + 1.0)


@dataclass
class TrendRow:
    """One topic's standing at a moment of event time."""

    topic_id: int
    window_count: int
    baseline_count: int
    growth: float  # window rate over baseline rate (+1 smoothing on both)
    score: float


class TrendCounter:
    """Per-topic counts in event-time buckets over ``window + baseline``.

    Memory is ``topics x buckets`` int32 (1,000 topics x 1,455 one-minute
    buckets = 5.8 MB); a late event still inside the span is counted in its own minute,
    an older one is left to ClickHouse.

    Examples
    --------
    Topic 1 posts steadily all hour; topic 2 goes from nothing to a burst in
    the last quarter:

    >>> import numpy as np
    >>> from workers import TrendCounter, TrendSettings
    >>> counter = TrendCounter(TrendSettings(window_s=900, baseline_s=3600, min_support=3))
    >>> steady = np.arange(0, 4500, 300.0)  # a post every five minutes
    >>> burst = 3700.0 + np.arange(0, 800, 100.0)  # eight posts in the last 15 minutes
    >>> topics = np.r_[np.full(len(steady), 1), np.full(len(burst), 2)]
    >>> counter.add(topics, np.r_[steady, burst])
    >>> [(r.topic_id, r.window_count, r.baseline_count) for r in counter.ranking()]
    [(2, 8, 0), (1, 3, 12)]
    >>> [round(r.score, 2) for r in counter.ranking()]
    [8.0, 0.0]
    """

    def __init__(self, settings: TrendSettings | None = None) -> None:
        self.settings = settings or TrendSettings()
        s = self.settings
        self.bucket_s = s.bucket_s
        self.n_buckets = int((s.window_s + s.baseline_s) // s.bucket_s)
        self.window_buckets = int(s.window_s // s.bucket_s)
        self.counts = np.zeros((16, self.n_buckets), dtype=np.int32)
        self.row: dict[int, int] = {}
        self.free: list[int] = []
        self.head: int | None = None  # absolute index of the newest bucket

    def _row_of(self, topic_id: int) -> int:
        r = self.row.get(topic_id)
        if r is None:
            if self.free:
                r = self.free.pop()
            else:
                r = len(self.row)
                if r >= len(self.counts):
                    grown = np.zeros((2 * len(self.counts), self.n_buckets), dtype=np.int32)
                    grown[: len(self.counts)] = self.counts
                    self.counts = grown
            self.row[topic_id] = r
        return r

    def _advance(self, bucket: int) -> None:
        """Move the newest bucket to ``bucket``, clearing the buckets that roll out."""
        if self.head is None:
            self.head = bucket
            return
        steps = bucket - self.head
        if steps <= 0:
            return
        if steps >= self.n_buckets:
            self.counts[:] = 0
        else:
            cols = (self.head + 1 + np.arange(steps)) % self.n_buckets
            self.counts[:, cols] = 0
        self.head = bucket

    def add(self, topic_ids: np.ndarray, ts: np.ndarray) -> None:
        """Count assigned documents (negative ids are ignored) at their event times."""
        keep = np.asarray(topic_ids) >= 0
        if not keep.any():
            return
        buckets = np.floor(np.asarray(ts)[keep] / self.bucket_s).astype(np.int64)
        self._advance(int(buckets.max()))
        in_span = buckets > self.head - self.n_buckets
        rows = np.array([self._row_of(int(t)) for t in np.asarray(topic_ids)[keep][in_span]])
        if len(rows):
            np.add.at(self.counts, (rows, buckets[in_span] % self.n_buckets), 1)

    def remove(self, topic_ids: np.ndarray, ts: np.ndarray) -> None:
        """Uncount documents that moved to another topic (counts never go below zero)."""
        ids = np.asarray(topic_ids)
        if self.head is None or len(ids) == 0:
            return
        buckets = np.floor(np.asarray(ts) / self.bucket_s).astype(np.int64)
        known = np.array([int(t) in self.row for t in ids.tolist()], dtype=bool)
        # Buckets that rolled out (or are not reached yet) were never counted there.
        keep = known & (buckets > self.head - self.n_buckets) & (buckets <= self.head)
        if not keep.any():
            return
        rows = np.array([self.row[int(t)] for t in ids[keep].tolist()])
        cols = buckets[keep] % self.n_buckets
        np.subtract.at(self.counts, (rows, cols), 1)
        np.maximum(self.counts, 0, out=self.counts)

    def merge(self, gone: int, keep: int) -> None:
        """The survivor of a merge inherits the other topic's history."""
        r = self.row.pop(gone, None)
        if r is None:
            return
        self.counts[self._row_of(keep)] += self.counts[r]
        self.counts[r] = 0
        self.free.append(r)

    def state(self) -> dict[str, Any]:
        """The counts as plain data (for checkpoints): settings, newest bucket, rows in use."""
        ids = list(self.row)
        rows = [self.row[t] for t in ids]
        return {
            "settings": asdict(self.settings),
            "head": self.head,
            "topic_ids": np.asarray(ids, dtype=np.int64),
            "counts": self.counts[rows].copy() if rows else np.zeros((0, self.n_buckets), np.int32),
        }

    def load(self, state: dict[str, Any]) -> None:
        """Replace the counts with :meth:`state` output taken with the same bucket geometry.

        Raises ``ValueError`` when the window, baseline or bucket width differ
        (the buckets would mean other minutes); the support floor may differ.
        """
        saved = TrendSettings(**state["settings"])
        s = self.settings
        geometry = ("window_s", "baseline_s", "bucket_s")
        if any(getattr(saved, k) != getattr(s, k) for k in geometry):
            raise ValueError(
                "trend counts were saved with other windows: "
                + ", ".join(f"{k} {getattr(saved, k):g} (now {getattr(s, k):g})" for k in geometry)
            )
        ids = [int(t) for t in np.asarray(state["topic_ids"]).tolist()]
        counts = np.asarray(state["counts"], dtype=np.int32).reshape(len(ids), self.n_buckets)
        self.counts = np.zeros((max(16, len(ids)), self.n_buckets), dtype=np.int32)
        self.counts[: len(ids)] = counts
        self.row = {t: i for i, t in enumerate(ids)}
        self.free = []
        head = state["head"]
        self.head = None if head is None else int(head)

    def window_counts(self, topic_ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """(count in the window, count in the baseline before it) per topic."""
        if self.head is None or not topic_ids:
            z = np.zeros(len(topic_ids), dtype=np.int64)
            return z, z.copy()
        rows = np.array([self.row.get(t, -1) for t in topic_ids])
        known = rows >= 0
        cols = (self.head - np.arange(self.window_buckets)) % self.n_buckets
        win = np.zeros(len(topic_ids), dtype=np.int64)
        total = np.zeros(len(topic_ids), dtype=np.int64)
        win[known] = self.counts[np.ix_(rows[known], cols)].sum(axis=1)
        total[known] = self.counts[rows[known]].sum(axis=1)
        return win, total - win

    def recent_count(self, topic_id: int, span_s: float) -> int:
        """Posts of one topic in the last ``span_s`` (whole buckets, up to the counted span)."""
        r = self.row.get(topic_id)
        if r is None or self.head is None:
            return 0
        k = min(self.n_buckets, max(1, round(span_s / self.bucket_s)))
        cols = (self.head - np.arange(k)) % self.n_buckets
        return int(self.counts[r, cols].sum())

    def ranking(self, limit: int = 10) -> list[TrendRow]:
        """Topics by trending score (support floor applied), best first."""
        ids = list(self.row)
        win, base = self.window_counts(ids)
        s = self.settings
        score = trend_score(win, base, s.window_s, s.baseline_s)
        growth = (win + 1.0) / (base * (s.window_s / s.baseline_s) + 1.0)
        order = [i for i in np.argsort(-score, kind="stable") if win[i] >= s.min_support]
        return [
            TrendRow(ids[i], int(win[i]), int(base[i]), float(growth[i]), float(score[i]))
            for i in order[:limit]
        ]
