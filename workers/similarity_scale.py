"""How similar this stream's related posts are: the scale the engine's cosine thresholds follow.

A sentence encoder puts two tweets about one event at cosine 0.6-0.8 and two
long forum posts of one newsgroup at 0.3-0.5: the same thresholds cannot
serve both. The engine's thresholds are set on tweets; this module measures,
online, where the stream's posts find their neighbours and scales the
thresholds down when they sit lower.

The yardstick is each probed post's ``k``-th nearest neighbour among the
stream's last ``ring`` posts (``k`` = the agreeing neighbours a birth needs):
its median over the last ``probes`` probes. Measured with all-MiniLM-L6-v2
(docs/engine.md, "Thresholds that follow the stream"): 0.70 on CrisisLexT26,
0.41 on 20 Newsgroups. The scale is that median over the reference (the
tweets' value), at most 1 (tweets keep their tuned thresholds) and at least
``floor``.

A few neighbours in a window also look far apart when *many* tight topics
interleave (1,000 live topics leave about one post of each in the ring), so
the scale is applied only while the stream's posts go unassigned: from when
the share of posts left waiting (an exponential average over about
``window`` posts) exceeds ``engage_share`` (8 %) until it falls below
``release_share`` (4 %): the band keeps 20 Newsgroups under a tenth of its
posts unassigned (0.094) without switching back and forth. A stream whose
posts find their topics keeps factor 1 (CrisisLexT26 leaves 3.5 % waiting).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


class SimilarityScale:
    """Online ``k``-th-neighbour cosine median of a stream, as a threshold factor.

    Parameters
    ----------
    dim
        Embedding dimension.
    reference
        The median the thresholds were tuned at (factor 1); 0 disables scaling.
    floor
        The smallest factor.
    k
        Which neighbour counts (the ``k``-th most similar recent post).
    ring
        Recent posts probes are compared with.
    probes
        Probe results the median is taken over.
    every
        One post in this many is probed (the rest only enter the ring): a
        probe is a ``ring x dim`` product and a partition, so this keeps it to
        a few microseconds per post.
    min_probes
        Probes needed before the factor leaves 1.
    engage_share, release_share, window
        The unassigned share (averaged over about ``window`` posts) above
        which the scale applies, and below which it stops applying again.

    Examples
    --------
    Posts that sit around cosine 0.4 of each other give a factor below one:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> centre = rng.standard_normal(64)
    >>> x = centre + 1.2 * np.linalg.norm(centre) / 8 * rng.standard_normal((2000, 64))
    >>> x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    >>> scale = SimilarityScale(64, reference=0.71, floor=0.5, every=4)
    >>> for s in range(0, 2000, 50):
    ...     scale.observe(x[s : s + 50])
    ...     scale.note_unassigned(np.ones(50, dtype=bool))  # none of them found a topic
    >>> 0.5 < scale.factor < 1.0
    True
    >>> for s in range(0, 8000, 50):  # once nearly every post finds its topic: back to 1
    ...     scale.note_unassigned(np.zeros(50, dtype=bool))
    >>> scale.factor
    1.0
    >>> SimilarityScale(64, reference=0.0, floor=0.5).factor  # disabled
    1.0
    """

    def __init__(
        self,
        dim: int,
        reference: float,
        floor: float,
        k: int = 4,
        ring: int = 1024,
        probes: int = 256,
        every: int = 16,
        min_probes: int = 32,
        engage_share: float = 0.08,
        release_share: float = 0.04,
        window: int = 1000,
    ) -> None:
        self.dim = dim
        self.reference = reference
        self.floor = floor
        self.k = k
        self.every = every
        self.min_probes = min_probes
        self.ring = np.zeros((ring, dim), dtype=np.float32)
        self.n_seen = 0  # posts ever observed (ring position = n_seen % ring)
        self.results = np.zeros(probes, dtype=np.float32)
        self.n_probes = 0
        self.measured = 1.0  # the median over the reference, clipped
        self.engage_share = engage_share
        self.release_share = release_share
        self.window = window
        self.unassigned = 0.0  # exponential average of posts left unassigned
        self.engaged = False

    @property
    def factor(self) -> float:
        """What the engine's cosine thresholds are multiplied by now."""
        return self.measured if self.engaged else 1.0

    def note_unassigned(self, waiting: np.ndarray) -> None:
        """Fold in which of a batch's posts were left unassigned (engages/releases the scale)."""
        n = len(waiting)
        if self.reference <= 0 or n == 0:
            return
        keep = (1.0 - 1.0 / self.window) ** n
        share = np.count_nonzero(waiting) / n
        self.unassigned = self.unassigned * keep + share * (1.0 - keep)
        if self.unassigned > self.engage_share:
            self.engaged = True
        elif self.unassigned < self.release_share:
            self.engaged = False

    def observe(self, x: np.ndarray) -> None:
        """Probe the batch's due posts against the ring, then add the batch to it."""
        if self.reference <= 0 or len(x) == 0:
            return
        cap = len(self.ring)
        # One post in `every`, picked by a multiplicative hash of its position in
        # the stream: a fixed stride would alias with a periodic stream (a
        # benchmark feeding each topic 8 posts in a row probed only first posts).
        # Plain integers: most live batches hold a post or two, where numpy's
        # per-call cost would dominate.
        every, start = self.every, self.n_seen
        due = [
            i
            for i in range(len(x))
            if ((((start + i) * 2654435761) & 0xFFFFFFFF) >> 16) % every == 0
        ]
        filled = min(self.n_seen, cap)
        # While the stream's posts find their topics the factor is not used:
        # measure only when it may be (most of a busy tweet stream's batches).
        idle = self.unassigned < self.release_share and self.n_probes >= self.min_probes
        if due and filled >= 4 * self.k and not idle:
            sims = x[due] @ self.ring[:filled].T
            kth = np.partition(sims, filled - self.k, axis=1)[:, filled - self.k]
            pos = (self.n_probes + np.arange(len(kth))) % len(self.results)
            self.results[pos] = kth
            self.n_probes += len(kth)
            if self.n_probes % 4 < len(kth):  # the median moves slowly: every 4th probe
                self._refresh()
        at = self.n_seen % cap
        if at + len(x) <= cap:  # the common case: one contiguous slice
            self.ring[at : at + len(x)] = x
        else:
            tail = x[-cap:]
            pos = (self.n_seen + len(x) - len(tail) + np.arange(len(tail))) % cap
            self.ring[pos] = tail
        self.n_seen += len(x)

    def _refresh(self) -> None:
        if self.n_probes < self.min_probes:
            return
        median = float(np.median(self.results[: min(self.n_probes, len(self.results))]))
        self.measured = float(np.clip(median / self.reference, self.floor, 1.0))

    # -- snapshot (a workers.npz_blob part) ----------------------------------
    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Ring and probe results, and the counters."""
        return (
            {"ring": self.ring, "results": self.results},
            {
                "n_seen": self.n_seen,
                "n_probes": self.n_probes,
                "unassigned": self.unassigned,
                "engaged": self.engaged,
                "measured": self.measured,
            },
        )

    def load(self, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
        """Replace the state with :meth:`state` output (empty: start measuring afresh)."""
        if "ring" not in arrays:
            return
        self.ring = np.array(arrays["ring"], dtype=np.float32)
        self.results = np.array(arrays["results"], dtype=np.float32)
        self.n_seen = int(meta["n_seen"])
        self.n_probes = int(meta["n_probes"])
        self.unassigned = float(meta["unassigned"])
        self.engaged = bool(meta["engaged"])
        self.measured = float(meta["measured"])
