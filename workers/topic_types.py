"""The data the online topic engines hand out: batch results, topic views, lineage.

Every engine (our vectorised one, the River wrapper) returns these types, so
the ``track`` agent, ``topictrack eval`` and the benchmarks never depend on
one engine's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np

#: Topic id given to a document that waits in the outlier buffer, and the
#: padding of top-k topic ids (whose probabilities are then 0).
UNASSIGNED = -1

TopicStatus = Literal["active", "dormant", "merged"]
LineageKind = Literal["born", "merged", "split", "dormant", "woke", "refreshed", "archived"]


@dataclass(frozen=True)
class LineageEvent:
    """A change of a topic's identity: birth, merge, split, dormancy, wake-up.

    Attributes
    ----------
    kind
        ``born``, ``merged``, ``split``, ``dormant``, ``woke``, ``refreshed``
        (a drift that moved the centroid without a split) or ``archived`` (the
        oldest dormant topic beyond ``max_dormant``: it can no longer wake).
    topic_id
        The topic the event is about: the gone topic of a merge, the child of
        a split.
    ts
        Event time of the batch in which it happened.
    other
        The topic on the far side of the edge: the survivor of a merge
        (``merged_into``), the parent of a split (``split_from``).

    Examples
    --------
    A topic nobody posts to fades and goes dormant (it keeps its id):

    >>> import numpy as np
    >>> from workers import EngineConfig, TopicTrackEngine
    >>> rng = np.random.default_rng(1)
    >>> def around(centre, n):
    ...     x = centre + 0.5 * rng.standard_normal((n, 384))
    ...     return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    >>> storm, market = rng.standard_normal((2, 384))
    >>> engine = TopicTrackEngine(384, EngineConfig(half_life_s=3600.0))
    >>> first = engine.learn_many(around(storm, 8), np.zeros(8), ["storm"] * 8)
    >>> later = engine.learn_many(around(market, 8), np.full(8, 12 * 3600.0), ["market"] * 8)
    >>> [(e.kind, e.topic_id, e.other) for e in first.lineage + later.lineage]
    [('born', 1, None), ('born', 2, None), ('dormant', 1, None)]
    >>> engine.topic(1).status
    'dormant'
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

    Examples
    --------
    Posts arriving one at a time wait in the outlier buffer until five agree;
    the fifth is assigned at once, the four before it late:

    >>> import numpy as np
    >>> from workers import UNASSIGNED, TopicTrackEngine
    >>> rng = np.random.default_rng(2)
    >>> x = rng.standard_normal(384) + 0.5 * rng.standard_normal((5, 384))
    >>> x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    >>> engine = TopicTrackEngine(dim=384)
    >>> for i in range(5):
    ...     result = engine.learn_many(x[i : i + 1], np.array([60.0 * i]), ["quake"], [f"d{i}"])
    >>> result.topic_ids.tolist()
    [1]
    >>> [(late.topic_id, late.doc_ids) for late in result.late]
    [(1, ['d0', 'd1', 'd2', 'd3'])]
    >>> len(result.late[0].previous) == 0  # all of them had waited (none taken back)
    True
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

    Top-k lists are padded with :data:`UNASSIGNED` and probability 0 where
    there are fewer than ``k`` topics to list.

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

    Examples
    --------
    A post with no topic to join yet waits, and its top-k is all padding:

    >>> import numpy as np
    >>> from workers import UNASSIGNED, TopicTrackEngine
    >>> engine = TopicTrackEngine(dim=4)
    >>> result = engine.learn_many(np.eye(4, dtype=np.float32)[:1], np.array([0.0]), ["hi"])
    >>> result.topic_ids.tolist() == [UNASSIGNED]
    True
    >>> result.topk_ids.tolist(), result.topk_probs.tolist()
    ([[-1, -1, -1]], [[0.0, 0.0, 0.0]])
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
    grows by one each time the topic is published. ``label`` is the top
    three keywords; ``examples`` are its most central distinct posts.

    Examples
    --------
    >>> import numpy as np
    >>> from workers import TopicTrackEngine
    >>> rng = np.random.default_rng(3)
    >>> x = rng.standard_normal(384) + 0.5 * rng.standard_normal((8, 384))
    >>> x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    >>> texts = [f"wildfire smoke over the hills, day {i}" for i in range(8)]
    >>> engine = TopicTrackEngine(dim=384)
    >>> _ = engine.learn_many(x, 3600.0 * np.arange(8), texts)
    >>> view = engine.topic(1)
    >>> view.status, view.size, view.label
    ('active', 8, 'wildfire · smoke · hills')
    >>> round(view.weight, 2)  # eight posts over seven hours, at a 12 h half-life
    6.59
    >>> view.centroid.shape, len(view.examples)
    ((384,), 5)
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


@runtime_checkable
class TopicEngine(Protocol):
    """The interface every online topic engine implements.

    ``tests/unit/workers/test_engine_contract.py`` holds every engine to it:
    result shapes and padding, ``predict_many`` changing nothing, a restored
    snapshot behaving as the original, topic ids never reused, lineage naming
    existing topics. Engines also have a ``restore(blob)`` class method.

    Examples
    --------
    >>> from workers import RiverStreamKMeansEngine, TopicEngine, TopicTrackEngine
    >>> isinstance(TopicTrackEngine(dim=8), TopicEngine)
    True
    >>> isinstance(RiverStreamKMeansEngine(dim=8), TopicEngine)
    True
    >>> isinstance(object(), TopicEngine)
    False
    """

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
        """Current view of one topic (any status); ``KeyError`` for an id never issued."""
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
