"""Stories above topics: which alerted topics tell one event.

A story is a set of topics about one event: the first topic announced
(``new``) and every later topic that continues it, a sub-story such as
rescues, donations or damage reports born hours or days later. The alert
detector (:mod:`workers.alerts`) asks :meth:`StoryBook.match` before it
announces a young topic: a topic that continues an alerted story is a
``development`` of it, never ``new`` again.

Two topics are one story when they are close *and* name the same things.
Centroids alone cannot tell: two events of one kind (two floods, two train
crashes) sit as close as an event and its sub-story, but their names differ
(other places, other people), so beyond the first day a story needs shared
keywords as well as a close centroid. Story ids are the id of the story's
first topic, so they are stable and mean the same thing everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class StoryHead:
    """One alerted topic, remembered for matching later topics against it."""

    at: float  # event time of the topic's alert (or its story's latest one)
    topic_id: int
    story_id: int
    keywords: list[str]  # its top-10 keywords at alert time, best first
    centroid: np.ndarray


class StoryBook:
    """Topic -> story, and the alerted topics later ones are matched against.

    Parameters
    ----------
    window_s
        How long an alerted topic can still be continued (a sub-story born
        up to this long after the story's latest alert).
    same_day_s, same_day_cosine, same_day_keywords
        Within ``same_day_s`` of an alert, one of the two suffices: a centroid
        this close or this many shared top-5 keywords (a language variant or
        side thread told the same day).
    cosine, keywords
        Later, both are needed: a centroid at least ``cosine`` close and at
        least ``keywords`` shared top-10 keywords.

    Examples
    --------
    >>> import numpy as np
    >>> book = StoryBook(window_s=7 * 86400.0)
    >>> c = np.array([1.0, 0.0], dtype=np.float32)
    >>> book.remember(0.0, 1, 1, ["flood", "brisbane", "river"], c)
    >>> book.match(3 * 86400.0, ["donations", "flood", "brisbane"], c)  # days later, same names
    1
    >>> book.match(3 * 86400.0, ["flood", "calgary", "alberta"], c) is None  # another flood
    True
    >>> book.link(7, 1); book.story(7), book.story(8)
    (1, 8)
    """

    def __init__(
        self,
        window_s: float,
        same_day_s: float = 86400.0,
        same_day_cosine: float = 0.35,
        same_day_keywords: int = 2,
        cosine: float = 0.5,
        keywords: int = 2,
    ) -> None:
        self.window_s = window_s
        self.same_day_s = same_day_s
        self.same_day_cosine = same_day_cosine
        self.same_day_keywords = same_day_keywords
        self.cosine = cosine
        self.keywords = keywords
        self.story_of: dict[int, int] = {}
        self.heads: list[StoryHead] = []

    def story(self, topic_id: int) -> int:
        """The story of a topic: its own id until it is linked to another."""
        return self.story_of.get(topic_id, topic_id)

    def link(self, topic_id: int, story_id: int) -> None:
        """Record that ``topic_id`` belongs to ``story_id``."""
        if topic_id != story_id:
            self.story_of[topic_id] = story_id

    def merged(self, gone: int, survivor: int) -> None:
        """A merge: the gone topic's alerted heads now stand for the survivor."""
        for head in self.heads:
            if head.topic_id == gone:
                head.topic_id = survivor

    def remember(
        self, at: float, topic_id: int, story_id: int, keywords: list[str], centroid: np.ndarray
    ) -> None:
        """An alert fired for ``topic_id``: later topics may continue its story."""
        self.link(topic_id, story_id)
        self.heads.append(StoryHead(at, topic_id, story_id, list(keywords[:10]), centroid.copy()))

    def match(self, now: float, keywords: list[str], centroid: np.ndarray) -> int | None:
        """The story a young topic continues, or None (newest matching story first)."""
        top5, top10 = set(keywords[:5]), set(keywords[:10])
        for head in reversed(self.heads):
            age = now - head.at
            if age > self.window_s:
                continue
            cos = float(centroid @ head.centroid)
            if age <= self.same_day_s:
                shared = len(top5 & set(head.keywords[:5]))
                if cos >= self.same_day_cosine or shared >= self.same_day_keywords:
                    return head.story_id
            elif cos >= self.cosine and len(top10 & set(head.keywords)) >= self.keywords:
                return head.story_id
        return None

    def forget_before(self, horizon: float) -> None:
        """Drop heads too old to be continued (memory stays flat in stream length)."""
        self.heads = [h for h in self.heads if h.at >= horizon]

    # -- snapshot ------------------------------------------------------------
    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Arrays and JSON that rebuild the book exactly (:mod:`workers.npz_blob` part)."""
        centroids = np.stack([h.centroid for h in self.heads]) if self.heads else np.zeros((0, 0))
        meta = {
            "story_of": [[t, s] for t, s in self.story_of.items()],
            "heads": [[h.at, h.topic_id, h.story_id, h.keywords] for h in self.heads],
        }
        return {"centroids": centroids}, meta

    def load(self, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
        """Replace the state with :meth:`state` output."""
        self.story_of = {int(t): int(s) for t, s in meta["story_of"]}
        centroids = arrays["centroids"]
        self.heads = [
            StoryHead(float(at), int(t), int(s), list(kw), centroids[i].copy())
            for i, (at, t, s, kw) in enumerate(meta["heads"])
        ]

    def stories(self, topic_ids: Iterable[int]) -> dict[int, int]:
        """Story of each given topic."""
        return {int(t): self.story(int(t)) for t in topic_ids}
