"""Each topic's representative posts: the most central distinct texts it received.

A topic view shows a few posts next to its keywords so a person sees what
it is about. Keeping the best ``n`` by cosine to the topic (at the time
they arrived) costs one candidate per topic per batch, and a merge hands the
gone topic's posts to the survivor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from workers.topic_types import UNASSIGNED


class TopicExamples:
    """Up to ``n`` (score, text) pairs per topic id, distinct texts only."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.kept: dict[int, list[tuple[float, str]]] = {}

    def of(self, topic_id: int) -> list[str]:
        """A topic's posts, most central first."""
        return [t for _, t in sorted(self.kept.get(topic_id, []), reverse=True)]

    def offer(self, topic_id: int, score: float, text: str) -> None:
        """Keep ``text`` if it is new to the topic and beats its least central post."""
        kept = self.kept.setdefault(topic_id, [])
        if any(t == text for _, t in kept):
            return
        if len(kept) < self.n:
            kept.append((score, text))
        else:
            worst = min(range(len(kept)), key=lambda j: kept[j][0])
            if score > kept[worst][0]:
                kept[worst] = (score, text)

    def offer_batch(self, topic_ids: np.ndarray, sims: np.ndarray, texts: list[str]) -> None:
        """Offer each topic's most central post of a batch (one candidate per topic)."""
        hit = np.flatnonzero(topic_ids != UNASSIGNED)
        if len(hit) == 0:
            return
        order = hit[np.lexsort((-sims[hit], topic_ids[hit]))]
        first = np.r_[True, topic_ids[order][1:] != topic_ids[order][:-1]]
        for i in order[first].tolist():
            self.offer(int(topic_ids[i]), float(sims[i]), texts[i])

    def hand_over(self, gone: int, keep: int) -> None:
        """A merge: the survivor is offered the gone topic's posts."""
        for score, text in self.kept.pop(gone, []):
            self.offer(keep, score, text)

    def drop(self, topic_id: int) -> None:
        """Forget a topic's posts (archived topics)."""
        self.kept.pop(topic_id, None)

    # -- snapshot ----------------------------------------------------------
    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The kept posts as JSON (topic ids as strings)."""
        return {}, {"examples": {str(t): [list(e) for e in v] for t, v in self.kept.items()}}

    def load(self, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
        """Replace the kept posts with :meth:`state` output."""
        self.kept = {
            int(t): [(float(s), str(x)) for s, x in v] for t, v in meta["examples"].items()
        }
