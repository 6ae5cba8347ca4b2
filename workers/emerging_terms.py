"""A new event inside an old topic: a term its recent posts share that its history never used.

The embeddings blur two events of one kind (the Santiago de Compostela train
crash lands in the Lac-Mégantic train topic 18 days older; the Savar building
collapse in the West Texas explosion topic), but the words do not: 22 of the
first 30 Santiago posts say "santiago", a word none of the 507 Lac-Mégantic
posts before them used; 29 of the first 30 Savar posts say "bangladesh",
which none of the 462 West Texas posts did. This module watches each live
topic's recent posts against its history and reports a term that at least
``min_docs`` recent posts share while at most ``max_prior_share`` of the
topic's ``min_prior`` or more earlier posts used it. The engine then splits
those posts off as the new event's topic (docs/engine.md, "New events inside
old topics").

"Recent" is the current and the previous block of ``window`` posts of the
topic (tumbling blocks: between ``window`` and ``2 * window`` posts), and a
block joins the history once it is two blocks old: counting costs one
C-level ``Counter.update`` per post, a few microseconds, instead of one
Python update per term.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Terms of a post counted (its first ones): names and places open a post or
#: its subject line, and a long forum post must not cost hundreds of updates.
MAX_TERMS = 32


@dataclass
class _TopicTerms:
    """One topic's term counts: its history and its last two blocks of posts."""

    prior: Counter[str] = field(default_factory=Counter)
    n_prior: int = 0
    prev: Counter[str] = field(default_factory=Counter)
    cur: Counter[str] = field(default_factory=Counter)
    posts: list[tuple[tuple[str, ...], str]] = field(default_factory=list)  # prev + cur
    n_prev: int = 0  # how many of ``posts`` are the previous block's


@dataclass(frozen=True)
class Emerging:
    """A term new to a topic that its recent posts share: the posts to split off."""

    topic_id: int
    term: str
    doc_ids: list[str]  # the recent posts carrying the term, oldest first


class EmergingTerms:
    """Per-topic term history against its recent posts.

    Examples
    --------
    >>> et = EmergingTerms(window=10, min_docs=4, min_prior=20, max_prior_share=0.01)
    >>> old = [["train", "derailed", "quebec"]] * 40
    >>> et.observe([7] * 40, old, [f"a{i}" for i in range(40)])
    []
    >>> new = [["train", "santiago", "spain"]] * 4
    >>> found = et.observe([7] * 4, new, ["b0", "b1", "b2", "b3"])
    >>> [(e.topic_id, e.term, e.doc_ids) for e in found]
    [(7, 'santiago', ['b0', 'b1', 'b2', 'b3'])]
    """

    def __init__(self, window: int, min_docs: int, min_prior: int, max_prior_share: float) -> None:
        self.window = window
        self.min_docs = min_docs
        self.min_prior = min_prior
        self.max_prior_share = max_prior_share
        self.topics: dict[int, _TopicTerms] = {}

    def observe(
        self, topic_ids: Iterable[int], terms: Iterable[list[str]], doc_ids: Iterable[str]
    ) -> list[Emerging]:
        """Count a batch's assigned posts; return the (first) emerging term per topic."""
        found: dict[int, Emerging] = {}
        window, min_docs, min_prior, cap = self.window, self.min_docs, self.min_prior, MAX_TERMS
        topics = self.topics
        for tid, words, doc in zip(topic_ids, terms, doc_ids, strict=True):
            t = topics.get(tid)
            if t is None:
                t = topics[tid] = _TopicTerms()
            # In the post's own order (a set's is hash-seeded: replays must agree).
            ordered = tuple(dict.fromkeys(words[:cap]))
            if len(t.posts) - t.n_prev >= window:  # the current block is full
                t.prior.update(t.prev)
                t.n_prior += t.n_prev
                t.prev, t.cur = t.cur, Counter()
                del t.posts[: t.n_prev]
                t.n_prev = len(t.posts)
            t.posts.append((ordered, doc))
            t.cur.update(ordered)  # counted in C
            if t.n_prior < min_prior or tid in found:
                continue
            cur, prev = t.cur, t.prev
            hot = [w for w in ordered if cur[w] + prev.get(w, 0) >= min_docs]
            if not hot:
                continue
            limit = self.max_prior_share * t.n_prior
            for w in hot:
                if t.prior[w] <= limit:
                    found[tid] = Emerging(tid, w, [d for ws, d in t.posts if w in ws])
                    break
        return list(found.values())

    def moved(self, topic_id: int, doc_ids: set[str], child: int) -> None:
        """Posts left ``topic_id`` for a split-off ``child``: they start the child's block."""
        t = self.topics.get(topic_id)
        if t is None:
            return
        c = self.topics.setdefault(child, _TopicTerms())
        keep: list[tuple[tuple[str, ...], str]] = []
        n_prev = 0
        for i, (ws, d) in enumerate(t.posts):
            if d in doc_ids:
                c.posts.append((ws, d))
                c.cur.update(ws)
                (t.prev if i < t.n_prev else t.cur).subtract(ws)
            else:
                keep.append((ws, d))
                n_prev += i < t.n_prev
        t.posts, t.n_prev = keep, n_prev

    def drop(self, topic_ids: Iterable[int]) -> None:
        """Forget topics that merged away or went dormant (memory follows the live set)."""
        for tid in topic_ids:
            self.topics.pop(int(tid), None)

    # -- snapshot (a workers.npz_blob part) ----------------------------------
    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Every topic's history and recent posts, as JSON."""
        rows = [
            [tid, t.n_prior, {w: n for w, n in t.prior.items() if n}, t.n_prev,
             [[list(ws), d] for ws, d in t.posts]]
            for tid, t in self.topics.items()
        ]  # fmt: skip
        return {}, {"topics": rows}

    def load(self, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
        """Replace the state with :meth:`state` output (empty: start afresh)."""
        self.topics = {}
        for tid, n_prior, prior, n_prev, posts in meta.get("topics", []):
            t = _TopicTerms(prior=Counter({str(k): int(v) for k, v in prior.items()}))
            t.n_prior, t.n_prev = int(n_prior), int(n_prev)
            for i, (words, doc) in enumerate(posts):
                ws = tuple(words)
                t.posts.append((ws, str(doc)))
                (t.prev if i < t.n_prev else t.cur).update(ws)
            self.topics[int(tid)] = t
