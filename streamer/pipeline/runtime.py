"""In-process state a worker shares with its HTTP API and the live dashboard.

Agents bump counters and publish topic summaries here; ``/api/v1/stats``,
``/api/v1/topics``, ``/metrics`` and ``topictrack demo``'s table read them.
Plain data, updated from the event loop thread only.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Histogram

from streamer.validation import reason_class
from workers.topic_types import TopicView

#: Topics kept per stream for the API and the dashboard.
TOP_TOPICS = 50
#: Newest alerts a ``track`` worker keeps in memory (dashboard, ``/alerts`` without a store).
RECENT_ALERTS = 200
#: Upper bounds (s) of the batch-latency histogram buckets: a CPU embed batch
#: of 64 takes ~0.7 s here (docs/components.md), a track batch milliseconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _batch_histogram(registry: CollectorRegistry) -> Histogram:
    return Histogram(
        "topictrack_batch_seconds",
        "Seconds one stage spent on one batch (embed: validate + model + send; "
        "track: learn + publish; sink: one insert round)",
        ["stage"],
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )


@dataclass
class Runtime:
    """Counters, per-stream topic summaries and engine stats of one worker."""

    agents: frozenset[str] = frozenset()
    started_at: float = field(default_factory=time.time)
    counters: Counter[str] = field(default_factory=Counter)
    #: stream -> topic summaries (dicts from :func:`topic_summary`), largest weight first.
    topics: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: stream -> the engine's ``stats()``.
    engine_stats: dict[str, dict[str, float]] = field(default_factory=dict)
    #: stream -> latest event time seen by track.
    last_ts: dict[str, float] = field(default_factory=dict)
    #: Last time (monotonic) any counter moved: the demo's idle detector.
    last_progress: float = field(default_factory=time.monotonic)
    #: The newest alerts this worker published (``track``), oldest first.
    alerts: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=RECENT_ALERTS))
    #: Alerts ever appended to ``alerts`` by this process (numbers the live feed).
    alerts_total: int = 0
    #: (stage, reason class) -> dead letters this worker sent.
    dead_letters: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: What ``/metrics`` shows; the batch histogram lives in it.
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    ready: bool = False
    #: Start-up work still running (e.g. "model"); the worker is ready when empty.
    starting: set[str] = field(default_factory=set)
    model: str = ""

    def __post_init__(self) -> None:
        self.batch_seconds = _batch_histogram(self.registry)

    def add_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """Keep newly published alerts for the API and count them by kind."""
        self.alerts.extend(alerts)
        self.alerts_total += len(alerts)
        for a in alerts:
            self.bump(f"track.alerts.{a.get('kind', 'unknown')}")

    def dead_lettered(self, stage: str, reason: str, n: int = 1) -> None:
        """Count dead letters by stage and reason class (``/metrics``)."""
        self.dead_letters[(stage, reason_class(reason))] += n

    def bump(self, name: str, n: int = 1) -> None:
        if n:
            self.counters[name] += n
            self.last_progress = time.monotonic()

    def stats(self) -> dict[str, Any]:
        return {
            "agents": sorted(self.agents),
            "uptime_s": round(time.time() - self.started_at, 3),
            "ready": self.ready,
            "model": self.model,
            "counters": dict(sorted(self.counters.items())),
            "streams": {
                s: {"engine": self.engine_stats.get(s, {}), "last_ts": self.last_ts.get(s)}
                for s in sorted(set(self.engine_stats) | set(self.last_ts))
            },
        }


def topic_summary(view: TopicView, stream: str, story_id: int | None = None) -> dict[str, Any]:
    """A JSON-able summary of a ``TopicView`` (no centroid) for the API and the dashboard.

    ``story_id``: the topic's story (``workers.stories``; its own id when omitted).
    """
    return {
        "stream": stream,
        "topic_id": int(view.topic_id),
        "version": int(view.version),
        "size": int(view.size),
        "weight": float(view.weight),
        "born_at": float(view.born_at),
        "updated_at": float(view.updated_at),
        "keywords": list(view.keywords)[:10],
        "keyword_scores": [float(x) for x in list(view.keyword_scores)[:10]],
        "label": view.label,
        "status": view.status,
        "merged_into": view.merged_into,
        "split_from": view.split_from,
        "examples": list(view.examples)[:3],
        "story_id": int(view.topic_id if story_id is None else story_id),
    }
