"""Settings of the online topic engine, with the reason behind each default.

The defaults were chosen once, from what the embedding model's geometry and
event-time dynamics imply, and are the same for every stream; they are never
tuned per data set with labels. ``topictrack eval`` reports how they fare.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class EngineConfig:
    """Parameters of :class:`workers.topic_engine.TopicTrackEngine`.

    Similarities are cosines between L2-normalised sentence embeddings.
    Times are event-time seconds. Each field's comment gives the reason for
    its default; ``docs/engine.md`` what was measured with them.

    Examples
    --------
    >>> from workers import EngineConfig
    >>> EngineConfig().assign_threshold, EngineConfig().min_topic_size
    (0.35, 5)
    >>> EngineConfig.from_dict({"min_topic_size": 3, "half_life_s": 3600}).min_topic_size
    3
    >>> EngineConfig.from_dict({"thresold": 0.5})
    Traceback (most recent call last):
    ...
    ValueError: unknown engine setting(s) ['thresold']; known: [...]
    >>> EngineConfig(assign_threshold=1.5)
    Traceback (most recent call last):
    ...
    ValueError: assign_threshold must be a cosine in [-1, 1], got 1.5
    """

    #: A document joins its nearest live topic when its cosine to the topic's
    #: centroid reaches this. Sentence-embedding centroids of a real-world
    #: event sit at cosine 0.35-0.75 from its posts, while the opening posts
    #: of a *different* event of the same kind sit at 0.25-0.45 from an older
    #: topic (measured on CrisisLexT26). 0.35 keeps most of an event's own
    #: posts and sends more of another event's first posts to the buffer,
    #: where they can be born as their own topic: replayed in batches of at
    #: most an hour (with the take-back below) B-cubed F1 0.76 -> 0.81 and
    #: alert recall 0.77 -> 0.96; in full 256-post batches F1 drops
    #: 0.86 -> 0.81 instead.
    assign_threshold: float = 0.35
    #: The cosine thresholds above and below (join, idle penalty, birth) are
    #: tuned on tweets and follow the stream's own similarity scale
    #: (workers/similarity_scale.py): they are multiplied by the median
    #: cosine of a post's ``similarity_neighbour``-th nearest recent post over
    #: ``similarity_reference``, capped at 1 and floored at
    #: ``similarity_floor``, while the stream leaves more than a tenth of its
    #: posts unassigned. 0.62 is (just under) the lowest that running median
    #: falls on CrisisLexT26 (0.64; median 0.70), so tweets keep their
    #: thresholds; long 20 Newsgroups posts sit at 0.41 (factor 0.66: join at
    #: 0.23, birth at 0.33). The 4th neighbour: the agreeing posts a birth
    #: needs (min_topic_size - 1). 0 disables the scaling.
    similarity_reference: float = 0.62
    similarity_floor: float = 0.5
    similarity_neighbour: int = 4
    #: A topic that has been quiet is less receptive: the cosine needed to
    #: join it rises by up to ``idle_penalty``, in full once it has been idle
    #: for ``idle_penalty_after_s`` (four half-lives, when its pull has faded
    #: to a sixteenth). Measured on CrisisLexT26 this is what keeps the tail
    #: of one disaster from swallowing the start of the next in small batches.
    idle_penalty: float = 0.1
    idle_penalty_after_s: float = 48 * 3600.0
    #: Two buffered documents "agree" (may seed a topic together) at this
    #: cosine: stricter than joining, because a new topic must start from a
    #: coherent core, not from a chain of loosely related posts.
    birth_threshold: float = 0.50
    #: Documents that must agree before a topic is born. Five posts saying the
    #: same thing is the smallest group worth naming; fewer gives one-off
    #: topics from retweet pairs.
    min_topic_size: int = 5
    #: Two topics merge when their centroids are as close as two samples of
    #: ONE topic would be: the expected cosine between the means of samples
    #: of sizes n1, n2 from a source whose mean vector has squared norm r² is
    #: r² / sqrt((r² + (1-r²)/n1)(r² + (1-r²)/n2)). They merge when their
    #: cosine distance is at most ``merge_slack`` times that expected
    #: distance. 1.5 admits 95% of same-source pairs (measured on tweets) and
    #: keeps large distinct topics apart, however similar their genre (two
    #: floods a year apart sit at 0.91), which a fixed cosine cannot do.
    merge_slack: float = 1.5
    #: Never merge (or join a group into a topic) below this cosine, whatever
    #: the statistics say: tiny topics have noisy centroids.
    merge_floor: float = 0.6
    #: ... or when their centroids reach this cosine, whatever their sizes:
    #: topics drift, so two large samples of one evolving story are not
    #: identically distributed.
    same_topic_cosine: float = 0.85
    #: Dormant topics stay matchable for wake-ups this long after their last
    #: post. A story that resurfaces within days is the same story; the same
    #: kind of event months later is a new event and gets a new topic.
    wake_window_s: float = 7 * 86400.0
    #: Half-life of a document's influence on centroids, weights and keywords.
    #: Half a day: news and social topics move on a daily rhythm, so a topic
    #: that is quiet for a few days has ended.
    half_life_s: float = 12 * 3600.0
    #: Half-life of a post's weight in the topic's keywords. Longer than the
    #: centroid's: a centroid must follow the story hour by hour, but the
    #: words naming it should summarise the last few days, not the last
    #: few posts (the tail of a story is its least typical part).
    keyword_half_life_s: float = 3 * 86400.0
    #: A topic whose decayed weight falls below this many documents goes
    #: dormant: out of the live set, kept, able to wake.
    dormant_weight: float = 1.0
    #: Upper bound of the live set (the matrix every document is compared
    #: with). The weakest topics go dormant beyond it, so work and memory per
    #: document stay flat however long the stream runs.
    max_live: int = 1000
    #: Dormant topics kept matchable for wake-ups; the oldest beyond it are
    #: archived (their id, lineage and history stay; their centroid is dropped).
    max_dormant: int = 10_000
    #: Outlier buffer capacity (documents) and how long a document waits there
    #: for others to agree with it before it stays unassigned for good.
    buffer_size: int = 2000
    buffer_ttl_s: float = 12 * 3600.0
    #: A post joining its topic below ``birth_threshold`` but agreeing with at
    #: least this many waiting posts goes to the buffer instead (0: never):
    #: a story is forming there, one post short of a birth with this one.
    #: Measured on CrisisLexT26 replayed one post at a time: alert recall
    #: 0.885 -> 0.923, B-cubed F1 0.808 -> 0.817 (at 1 it splits stories:
    #: F1 0.76; at 4 = min_topic_size - 1 it rarely applies).
    forming_agree: int = 3
    #: A newborn topic takes back the posts of the last this-many seconds that
    #: older live topics took but that sit closer to it (0: never). As long as
    #: the buffer keeps a post waiting: the window in which the story could
    #: have been born from it.
    reclaim_window_s: float = 12 * 3600.0
    #: Topics reported per document, and the softmax temperature turning
    #: cosines into probabilities. 0.05: a cosine lead of 0.1 is a 7:1 odds
    #: ratio, about what separates a clear from an ambiguous assignment.
    top_k: int = 3
    temperature: float = 0.05
    #: Keywords and representative posts kept per topic.
    n_keywords: int = 10
    n_examples: int = 5
    #: Recent assigned documents kept (all topics together) for drift splits
    #: and centroid refreshes.
    recent_capacity: int = 4096
    #: Per-topic drift detector over the topic's assignment similarity:
    #: ``adwin`` or ``page-hinkley`` (river.drift), or ``none``.
    drift_detector: str = "adwin"
    #: A drifted topic splits when the two halves of its recent posts are
    #: less similar than this and both halves hold ``min_topic_size`` posts;
    #: otherwise its centroid is refreshed from its recent posts.
    split_threshold: float = 0.60
    #: A new event absorbed by an older topic of its kind is split off when
    #: ``split_term_min_docs`` of the topic's last ``split_term_window`` posts
    #: share a term that at most ``split_term_share`` of its
    #: ``split_term_min_prior`` or more earlier posts used (and those posts'
    #: centroid sits below ``same_topic_cosine`` from the rest):
    #: workers/emerging_terms.py; docs/engine.md has the measured reasons.
    #: 0 ``split_term_min_docs`` disables it.
    split_term_window: int = 40
    split_term_min_docs: int = 15
    split_term_min_prior: int = 100
    split_term_share: float = 0.01

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first setting out of range."""
        if not 0.0 <= self.similarity_reference <= 1.0:
            raise ValueError(
                f"similarity_reference must be in [0, 1], got {self.similarity_reference}"
            )
        if not 0.0 < self.similarity_floor <= 1.0:
            raise ValueError(f"similarity_floor must be in (0, 1], got {self.similarity_floor}")
        for name in ("assign_threshold", "birth_threshold", "merge_floor", "split_threshold"):
            v = getattr(self, name)
            if not -1.0 <= v <= 1.0:
                raise ValueError(f"{name} must be a cosine in [-1, 1], got {v}")
        for name in (
            "half_life_s",
            "keyword_half_life_s",
            "buffer_ttl_s",
            "temperature",
            "merge_slack",
            "wake_window_s",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        for name in (
            "min_topic_size",
            "max_live",
            "max_dormant",
            "buffer_size",
            "top_k",
            "n_keywords",
            "n_examples",
            "recent_capacity",
        ):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.forming_agree < 0:
            raise ValueError(f"forming_agree must be >= 0, got {self.forming_agree}")
        if self.reclaim_window_s < 0:
            raise ValueError(f"reclaim_window_s must be >= 0, got {self.reclaim_window_s}")
        if self.min_topic_size < 2:
            raise ValueError("min_topic_size must be >= 2: one-document topics are not topics")
        if self.drift_detector not in ("adwin", "page-hinkley", "none"):
            raise ValueError(
                f"drift_detector must be adwin, page-hinkley or none, got {self.drift_detector!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Every setting by name (JSON-serialisable; :meth:`from_dict` reads it back)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> EngineConfig:
        """Build from a mapping, rejecting unknown keys with the list of known ones."""
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown engine setting(s) {unknown}; known: {sorted(known)}")
        return cls(**values)
