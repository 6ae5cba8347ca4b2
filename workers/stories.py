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
terms as well as a close centroid: top keywords, and the names in its most
central posts (:func:`name_terms`; c-TF-IDF ranks a name the older topic also
uses *down*, so a sub-story's keywords often miss the very names it shares).
Story ids are the id of the story's first topic, so they are stable and mean
the same thing everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: A word: a letter, then letters, digits, apostrophes or hyphens (not @/# tags).
_WORD = re.compile(r"(?<![\w@#])([^\W\d_][\w'’-]*)")


def name_terms(texts: Iterable[str], limit: int = 20) -> list[str]:
    """Entity-like terms of some posts: capitalised words not opening a sentence, lowercased.

    What the embeddings blur (places, people, organisations) and what tells two
    events of one kind apart. A word opening a post or a sentence is
    capitalised anyway, and an all-capital word (``BREAKING``, ``RT``) is
    shouting, not a name; both are skipped. Most frequent first.

    >>> name_terms(["Floods hit Marlow as the Tamsin rises", "BREAKING: Marlow evacuated"])
    ['marlow', 'tamsin']
    """
    counts: dict[str, int] = {}
    for text in texts:
        for sentence in re.split(r"(?<=[.!?:;])\s+|\n+", text):
            words = _WORD.findall(sentence)
            for word in words[1:]:
                if word[0].isupper() and not word.isupper() and len(word) >= 3:
                    key = word.lower().strip("'’-")
                    counts[key] = counts.get(key, 0) + 1
    return sorted(counts, key=lambda w: -counts[w])[:limit]


@dataclass
class StoryHead:
    """One alerted topic, remembered for matching later topics against it."""

    at: float  # event time of the topic's alert (or its story's latest one)
    topic_id: int
    story_id: int
    keywords: list[str]  # its top-10 keywords at alert time, best first
    centroid: np.ndarray
    names: list[str] = field(default_factory=list)  # name_terms of its examples then


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
        least ``keywords`` shared terms (top-10 keywords and names together).

    Examples
    --------
    >>> import numpy as np
    >>> book = StoryBook(window_s=7 * 86400.0)
    >>> c = np.array([1.0, 0.0], dtype=np.float32)
    >>> book.remember(0.0, 1, 1, ["flood", "brisbane", "river"], c, ["queensland"])
    >>> book.match(3 * 86400.0, ["donations", "flood", "brisbane"], c)  # days later, same names
    1
    >>> book.match(3 * 86400.0, ["donations", "appeal"], c, ["brisbane", "queensland"])
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
        cosine: float = 0.35,
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
        self,
        at: float,
        topic_id: int,
        story_id: int,
        keywords: list[str],
        centroid: np.ndarray,
        names: list[str] = (),  # type: ignore[assignment]
    ) -> None:
        """An alert fired for ``topic_id``: later topics may continue its story."""
        self.link(topic_id, story_id)
        self.heads.append(
            StoryHead(at, topic_id, story_id, list(keywords[:10]), centroid.copy(), list(names))
        )

    def match(
        self,
        now: float,
        keywords: list[str],
        centroid: np.ndarray,
        names: list[str] = (),  # type: ignore[assignment]
    ) -> int | None:
        """The story a young topic continues, or None (newest matching story first)."""
        top5, terms = set(keywords[:5]), set(keywords[:10]) | set(names)
        for head in reversed(self.heads):
            age = now - head.at
            if age > self.window_s:
                continue
            cos = float(centroid @ head.centroid)
            if age <= self.same_day_s:
                shared = len(top5 & set(head.keywords[:5]))
                if cos >= self.same_day_cosine or shared >= self.same_day_keywords:
                    return head.story_id
            elif cos >= self.cosine and len(terms & {*head.keywords, *head.names}) >= self.keywords:
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
            "heads": [[h.at, h.topic_id, h.story_id, h.keywords, h.names] for h in self.heads],
        }
        return {"centroids": centroids}, meta

    def load(self, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
        """Replace the state with :meth:`state` output."""
        self.story_of = {int(t): int(s) for t, s in meta["story_of"]}
        centroids = arrays["centroids"]
        self.heads = [
            StoryHead(float(h[0]), int(h[1]), int(h[2]), list(h[3]), centroids[i].copy(),
                      list(h[4]) if len(h) > 4 else [])
            for i, h in enumerate(meta["heads"])
        ]  # fmt: skip

    def stories(self, topic_ids: Iterable[int]) -> dict[int, int]:
        """Story of each given topic."""
        return {int(t): self.story(int(t)) for t in topic_ids}
