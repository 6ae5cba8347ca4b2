"""The data the online topic engines hand out: batch results, topic views, lineage.

Every engine (our vectorised one, the River wrapper) returns these types, so
the ``track`` agent, ``topictrack eval`` and the benchmarks never depend on
one engine's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

#: Topic id given to a document that waits in the outlier buffer.
UNASSIGNED = -1

TopicStatus = Literal["active", "dormant", "merged"]
LineageKind = Literal["born", "merged", "split", "dormant", "woke", "refreshed"]


@dataclass(frozen=True)
class LineageEvent:
    """A change of a topic's identity: birth, merge, split, dormancy, wake-up.

    ``other`` is the topic on the far side of the edge: the survivor for a
    merge (``merged_into``), the parent for a split (``split_from``).
    """

    kind: LineageKind
    topic_id: int
    ts: float
    other: int | None = None


@dataclass
class LateAssignment:
    """Documents that now belong to a newborn topic, after they were processed.

    Buffered documents (first assigned :data:`UNASSIGNED`) the topic was born
    from, or assigned ones it took back from an older topic (``previous``);
    sinks store this as a newer version of the same event row.
    """

    doc_ids: list[str]
    topic_id: int
    similarity: np.ndarray
    ts: np.ndarray = field(default_factory=lambda: np.zeros(0))  # their event times
    #: The topic each document leaves (UNASSIGNED: it waited in the buffer);
    #: empty when all of them waited.
    previous: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


@dataclass
class BatchResult:
    """What :meth:`TopicEngine.learn_many` returns for one micro-batch of ``n`` documents.

    Attributes
    ----------
    topic_ids:
        ``(n,)`` int64; :data:`UNASSIGNED` for documents waiting in the buffer.
    similarity:
        ``(n,)`` float32 cosine similarity to the chosen topic (to the nearest
        topic for unassigned documents; 0 when there is no topic yet).
    topk_ids, topk_probs:
        ``(n, k)`` top-k topic ids (padded with :data:`UNASSIGNED`) and their
        probabilities (padded with 0).
    late:
        Buffered documents (of this or earlier batches) assigned by a birth.
    changed:
        Ids of topics whose snapshot changed in this batch (to publish).
    lineage:
        Births, merges, splits, dormancy and wake-ups in this batch.
    """

    topic_ids: np.ndarray
    similarity: np.ndarray
    topk_ids: np.ndarray
    topk_probs: np.ndarray
    late: list[LateAssignment] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)
    lineage: list[LineageEvent] = field(default_factory=list)


@dataclass
class TopicView:
    """A read-only snapshot of one topic, as published to ``topic-updates``.

    ``size`` counts every document ever assigned; ``weight`` is the
    event-time-decayed mass that drives trending and dormancy. ``version``
    grows by one each time the topic is published.
    """

    topic_id: int
    version: int
    born_at: float
    updated_at: float
    size: int
    weight: float
    centroid: np.ndarray
    keywords: list[str]
    keyword_scores: list[float]
    label: str
    status: TopicStatus
    merged_into: int | None = None
    split_from: int | None = None
    examples: list[str] = field(default_factory=list)


class TopicEngine(Protocol):
    """The interface every online topic engine implements."""

    dim: int

    def learn_many(
        self,
        embeddings: np.ndarray,
        ts: np.ndarray,
        texts: list[str],
        doc_ids: list[str] | None = None,
        terms: list[list[str]] | None = None,
    ) -> BatchResult:
        """Assign a batch (sorted or not by ``ts``) and update the topics.

        ``terms`` are the documents' keyword terms when the caller tokenised
        already (:func:`workers.tokenize.tokenize_many`).
        """
        ...

    def predict_many(self, embeddings: np.ndarray) -> BatchResult:
        """Assign without learning (no state change)."""
        ...

    def topic(self, topic_id: int) -> TopicView:
        """Current view of one topic (any status)."""
        ...

    def topics(self, include_inactive: bool = False) -> list[TopicView]:
        """Views of the live topics, largest weight first."""
        ...

    def stats(self) -> dict[str, float]:
        """Counters: documents seen, unassigned share, live and dormant topics."""
        ...

    def snapshot(self) -> bytes:
        """Serialise the whole state (restorable with the engine's ``restore``)."""
        ...

    @property
    def last_ts(self) -> float:
        """Latest event time the state covers."""
        ...
