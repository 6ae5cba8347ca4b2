"""Emerging-topic alerts in event time: ``new`` topics and ``burst`` of known ones.

The detector watches what the engine reports per batch (assignments and
lineage) and raises:

- ``new`` — a topic born (or split off) recently that reaches real support
  quickly: ``new_min_docs`` posts within ``new_within_s`` of its birth;
- ``burst`` — an established or dormant topic whose count over the last
  ``burst_window_s`` beats its own baseline by a Poisson z-score of
  ``burst_score`` with at least ``burst_min_docs`` posts.

Against alert storms: a per-topic cooldown; hysteresis on bursts (re-armed
only after the score falls below ``burst_rearm_score``); a merge passes the
alerted state to the survivor, so merging two alerted topics raises
nothing; and a young topic that continues an alerted story
(:mod:`workers.stories`: a language variant or side thread the same day, a
sub-story days later) is not announced as ``new`` again but as a
``development`` of that story. Every alert carries its ``story_id``.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from workers import npz_blob
from workers.stories import StoryBook, name_terms
from workers.topic_types import BatchResult, TopicEngine
from workers.trending import MINUTE, TrendCounter, TrendSettings, trend_score

log = logging.getLogger(__name__)

HOUR = 3600.0
#: Tag of :meth:`AlertDetector.snapshot` blobs.
SNAPSHOT_FORMAT = "topictrack-alerts/2"
#: Snapshots written before stories (no story book; the same-day dedupe list
#: ``recent`` instead): still restored, each remembered alert its own story.
SNAPSHOT_FORMAT_V1 = "topictrack-alerts/1"
#: Namespace of alert ids: uuid5(namespace, stream/topic/kind/window) makes a
#: replayed batch produce the same id, which the sinks deduplicate on.
ALERT_NAMESPACE = uuid.UUID("5b0f8c44-6f0e-4c55-9a59-4f2b7d3a9e61")


@dataclass(frozen=True)
class AlertSettings:
    """When alerts fire. Defaults are chosen once for social and news streams.

    ``new_min_docs`` 10 within 24 h: two posts a day is chatter, ten posts
    on the first day of a story is something people are talking about.
    A burst needs 20 posts in an hour, ten times the topic's own rate over
    the past week at a Poisson z-score of 6 (chance odds below one in a
    billion), from a topic at least three days old, and fires again only
    after the score fell below 2. A topic alerts at most once a month: an
    on-call person already knows the story, and its later waves (the
    aftershock, the second fire) show on the trending board; measured on
    CrisisLexT26, every burst of an already-announced topic was such a wave
    or an older topic's tail absorbing another story's start.

    Examples
    --------
    >>> from workers import AlertSettings
    >>> AlertSettings().new_min_docs, AlertSettings(new_min_docs=5).new_min_docs
    (10, 5)
    >>> AlertSettings(burst_score=2.0)  # re-arming needs a lower score than firing
    Traceback (most recent call last):
    ...
    ValueError: burst_rearm_score must be below burst_score (hysteresis)
    """

    new_min_docs: int = 10
    new_within_s: float = 24 * HOUR
    burst_window_s: float = HOUR
    burst_baseline_s: float = 7 * 24 * HOUR
    burst_min_docs: int = 20
    burst_score: float = 6.0
    burst_min_growth: float = 10.0
    burst_rearm_score: float = 2.0
    cooldown_s: float = 30 * 24 * HOUR
    #: A new topic sharing this many of its top-5 keywords with a topic
    #: alerted in the last ``dedupe_window_s``, or whose centroid is this
    #: close to that topic's, is the same story told again: born the same day
    #: and related (unrelated posts sit at cosine 0-0.2 with all-MiniLM-L6-v2;
    #: one event told in another language or a side thread of it, at
    #: 0.35-0.6), it is a language variant or a sub-thread, not news.
    dedupe_shared_keywords: int = 2
    dedupe_cosine: float = 0.35
    dedupe_window_s: float = 24 * HOUR
    #: Beyond that day, a young topic continues an alerted story (a sub-story
    #: such as rescues, donations or damage, born one to six days later) when
    #: it was alerted within ``story_window_s`` and the topic's centroid is at
    #: least ``story_cosine`` close (the same-day floor: related, not the same
    #: posts) *and* they share ``story_shared_keywords`` terms (top-10 keywords
    #: and names in their central posts): two events of one kind sit as close
    #: as an event and its sub-story, but name other places and people
    #: (docs/engine.md, "Stories above topics", has the measured reasons).
    story_window_s: float = 7 * 24 * HOUR
    story_cosine: float = 0.35
    story_shared_keywords: int = 2
    #: A burst needs the topic to be established: at least this old.
    burst_min_age_s: float = 3 * 24 * HOUR
    n_examples: int = 3

    def __post_init__(self) -> None:
        for name in ("new_min_docs", "burst_min_docs", "n_examples"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        for name in ("new_within_s", "cooldown_s", "dedupe_window_s", "story_window_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.burst_rearm_score >= self.burst_score:
            raise ValueError("burst_rearm_score must be below burst_score (hysteresis)")
        self.trend_settings()  # validates the windows

    def story_book(self) -> StoryBook:
        """An empty :class:`StoryBook` with these settings."""
        return StoryBook(
            window_s=max(self.story_window_s, self.dedupe_window_s),
            same_day_s=self.dedupe_window_s,
            same_day_cosine=self.dedupe_cosine,
            same_day_keywords=self.dedupe_shared_keywords,
            cosine=self.story_cosine,
            keywords=self.story_shared_keywords,
        )

    def trend_settings(self) -> TrendSettings:
        """Counting for bursts: 10-minute buckets keep a week of baseline small."""
        return TrendSettings(self.burst_window_s, self.burst_baseline_s, 1, bucket_s=10 * MINUTE)


@dataclass
class Alert:
    """One alert, as published to Kafka ``alerts``, ClickHouse and webhooks.

    Matches ``schemas/alert.schema.json``. Times are epoch seconds; all but
    ``created_at`` (wall clock) are event time. ``score`` is posts per hour
    since birth for ``new`` and ``development``, the Poisson z-score for
    ``burst``. ``story_id`` is the story the topic belongs to
    (:mod:`workers.stories`): the first alerted topic of its story, or the
    topic's own id.

    Examples
    --------
    >>> from workers import Alert
    >>> alert = Alert(
    ...     alert_id="a1", stream="default", topic_id=3, kind="new", score=12.5,
    ...     window_start=1_700_000_000.0, window_end=1_700_003_600.0,
    ...     first_seen=1_700_000_000.0, size=12, keywords=["flood", "river"],
    ...     label="flood · river", examples=["River floods the old town"], created_at=0.0,
    ... )
    >>> sorted(alert.to_dict())[:4], alert.to_dict()["extra"], alert.story_id
    (['alert_id', 'created_at', 'examples', 'extra'], {}, -1)
    """

    alert_id: str
    stream: str
    topic_id: int
    kind: str
    score: float
    window_start: float
    window_end: float
    first_seen: float
    size: int
    keywords: list[str]
    label: str
    examples: list[str]
    created_at: float
    extra: dict[str, Any] = field(default_factory=dict)
    story_id: int = -1  # -1: not known (an alert built by hand)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class AlertDetector:
    """Per-stream alert state machine (pure: no I/O).

    Parameters
    ----------
    stream
        The stream key its alerts carry (and their ids are made from).
    settings
        When alerts fire; :class:`AlertSettings` defaults when omitted.
    clock
        Wall clock for ``created_at`` only; every decision uses event time.

    Examples
    --------
    A story that reaches five posts on its first day raises a ``new`` alert
    (with ``new_min_docs=5``), once:

    >>> import numpy as np
    >>> from workers import AlertDetector, AlertSettings, TopicTrackEngine
    >>> rng = np.random.default_rng(5)
    >>> story = rng.standard_normal(384)
    >>> def posts(n):
    ...     x = story + 0.5 * rng.standard_normal((n, 384))
    ...     return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    >>> engine = TopicTrackEngine(dim=384)
    >>> detector = AlertDetector(settings=AlertSettings(new_min_docs=5), clock=lambda: 0.0)
    >>> alerts = []
    >>> for hour in range(3):
    ...     ts = 3600.0 * hour + 60.0 * np.arange(3)
    ...     result = engine.learn_many(posts(3), ts, ["levee breach downtown"] * 3)
    ...     alerts += detector.observe(engine, result, ts)
    >>> [(a.kind, a.topic_id, a.size, a.label) for a in alerts]
    [('new', 1, 6, 'levee · breach · downtown')]
    >>> restored = AlertDetector.restore(detector.snapshot(), clock=lambda: 0.0)
    >>> restored.alerted == detector.alerted
    True
    """

    def __init__(
        self,
        stream: str = "default",
        settings: AlertSettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.stream = stream
        self.settings = settings or AlertSettings()
        s = self.settings
        self.clock = clock
        self.trend = TrendCounter(s.trend_settings())
        self.young: dict[int, float] = {}  # topics still eligible for "new" -> when born
        self.alerted: dict[int, float] = {}  # topic -> event time of its last alert
        self.disarmed: set[int] = set()  # topics whose burst has not yet subsided
        # Which topic belongs to which story, and the alerted topics to match.
        self.stories = s.story_book()
        self.suppressed = 0  # young topics alerted as a development instead of as new

    def observe(self, engine: TopicEngine, result: BatchResult, ts: np.ndarray) -> list[Alert]:
        """Update with one engine batch; return the alerts it raises."""
        ts = np.asarray(ts, dtype=np.float64)
        if len(ts) == 0:
            return []
        now = float(ts.max())
        self.trend.add(result.topic_ids, ts)
        for late in result.late:  # posts now counted under their new topic
            self.trend.add(np.full(len(late.ts), late.topic_id), late.ts)
            if len(late.previous):  # taken back from an older topic: not its posts any more
                self.trend.remove(late.previous, late.ts)
        for event in result.lineage:
            if event.kind in ("born", "split"):
                self.young[event.topic_id] = now
            elif event.kind == "merged" and event.other is not None:
                self.trend.merge(event.topic_id, event.other)
                self.young.pop(event.topic_id, None)
                self.stories.merged(event.topic_id, event.other)
                gone_alert = self.alerted.pop(event.topic_id, None)
                if gone_alert is not None:
                    # The survivor counts as alerted: a merge is not news.
                    self.alerted[event.other] = max(gone_alert, self.alerted.get(event.other, 0))
                    self.young.pop(event.other, None)
        alerts = self._new_topics(engine, now)
        alerts += self._bursts(engine, now)
        self.stories.forget_before(now - self.stories.window_s)
        return alerts

    # ------------------------------------------------------------------
    def snapshot(self) -> bytes:
        """Serialise the state (for checkpoints next to the engine's): an ``.npz``, no pickle."""
        trend = self.trend.state()
        meta = {
            "format": SNAPSHOT_FORMAT,
            "stream": self.stream,
            "settings": asdict(self.settings),
            "young": [[t, at] for t, at in self.young.items()],
            "alerted": [[t, at] for t, at in self.alerted.items()],
            "disarmed": sorted(self.disarmed),
            "suppressed": self.suppressed,
            "trend_settings": trend["settings"],
            "trend_head": trend["head"],
        }
        # Centroids stacked in their own dtype: a restored match computes the same cosines.
        story_arrays, meta["stories"] = self.stories.state()
        return npz_blob.pack(
            meta,
            {
                **{f"stories_{k}": v for k, v in story_arrays.items()},
                "trend_topic_ids": trend["topic_ids"],
                "trend_counts": trend["counts"],
            },
        )

    @classmethod
    def restore(
        cls,
        blob: bytes,
        settings: AlertSettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> AlertDetector:
        """Rebuild a detector from :meth:`snapshot` output.

        ``settings`` default to the saved ones. When they count bursts over
        other windows than the saved counts, the counts start empty (logged):
        the rest of the state (alerted topics, cooldowns) is kept.
        """
        meta, z = npz_blob.unpack(blob, SNAPSHOT_FORMAT, SNAPSHOT_FORMAT_V1)
        det = cls(meta["stream"], settings or AlertSettings(**meta["settings"]), clock)
        det.young = {int(t): float(at) for t, at in meta["young"]}
        det.alerted = {int(t): float(at) for t, at in meta["alerted"]}
        det.disarmed = {int(t) for t in meta["disarmed"]}
        det.suppressed = int(meta["suppressed"])
        if meta["format"] == SNAPSHOT_FORMAT_V1:
            # Its same-day list becomes story heads, each alert its own story.
            heads = [[at, t, t, kw] for at, t, kw in meta["recent"]]
            det.stories.load({"centroids": z["recent_centroids"]}, {"story_of": [], "heads": heads})
        else:
            own = {k[len("stories_") :]: z[k] for k in z.files if k.startswith("stories_")}
            det.stories.load(own, meta["stories"])
        try:
            det.trend.load(
                {
                    "settings": meta["trend_settings"],
                    "head": meta["trend_head"],
                    "topic_ids": z["trend_topic_ids"],
                    "counts": z["trend_counts"],
                }
            )
        except ValueError as exc:
            log.warning("stream %r: burst counts start empty: %s", det.stream, exc)
        return det

    # ------------------------------------------------------------------
    def _new_topics(self, engine: TopicEngine, now: float) -> list[Alert]:
        s = self.settings
        out = []
        for tid in list(self.young):
            if tid in self.alerted:
                del self.young[tid]
                continue
            view = engine.topic(tid)
            if view.status == "merged" or now - self.young[tid] > s.new_within_s:
                del self.young[tid]
                continue
            # "Quickly": enough posts within the last new_within_s of event
            # time, not counting stragglers that waited long in the buffer.
            if self.trend.recent_count(tid, s.new_within_s) < s.new_min_docs:
                continue
            del self.young[tid]
            hours = max((now - view.born_at) / HOUR, 1 / 60)
            names = name_terms(view.examples)
            story = self.stories.match(now, view.keywords, view.centroid, names)
            if story is None:
                out.append(self._make(view, "new", view.size / hours, view.born_at, now))
            else:  # a known story's new aspect: on-call knows the story already
                self.suppressed += 1
                self.stories.link(tid, story)
                out.append(self._make(view, "development", view.size / hours, view.born_at, now))
        return out

    def _bursts(self, engine: TopicEngine, now: float) -> list[Alert]:
        s = self.settings
        ids = list(self.trend.row)
        if not ids:
            return []
        win, base = self.trend.window_counts(ids)
        score = trend_score(win, base, s.burst_window_s, s.burst_baseline_s)
        growth = (win + 1.0) / (base * (s.burst_window_s / s.burst_baseline_s) + 1.0)
        out = []
        for i, tid in enumerate(ids):
            if tid in self.disarmed:
                if score[i] < s.burst_rearm_score:
                    self.disarmed.discard(tid)
                continue
            if (
                win[i] < s.burst_min_docs
                or score[i] < s.burst_score
                or growth[i] < s.burst_min_growth
                or tid in self.young
            ):
                continue
            last = self.alerted.get(tid)
            self.disarmed.add(tid)
            if last is not None and now - last < s.cooldown_s:
                continue
            view = engine.topic(tid)
            if view.status == "merged" or now - view.born_at < s.burst_min_age_s:
                continue
            out.append(self._make(view, "burst", float(score[i]), now - s.burst_window_s, now))
        return out

    def _make(self, view: Any, kind: str, score: float, start: float, end: float) -> Alert:
        self.alerted[view.topic_id] = end
        story = self.stories.story(view.topic_id)
        names = name_terms(view.examples)
        self.stories.remember(end, view.topic_id, story, view.keywords, view.centroid, names)
        window_start = math.floor(start / MINUTE) * MINUTE
        key = f"{self.stream}/{view.topic_id}/{kind}/{int(end // MINUTE)}"
        return Alert(
            alert_id=str(uuid.uuid5(ALERT_NAMESPACE, key)),
            stream=self.stream,
            topic_id=int(view.topic_id),
            kind=kind,
            score=float(score),
            window_start=float(window_start),
            window_end=float(end),
            first_seen=float(view.born_at),
            size=int(view.size),
            keywords=list(view.keywords),
            label=view.label,
            examples=list(view.examples[: self.settings.n_examples]),
            created_at=float(self.clock()),
            story_id=int(story),
        )
