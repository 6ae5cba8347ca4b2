"""Replay a labeled stream through a topic engine and score it (``topictrack eval``).

Pure compute: the caller hands in embeddings (cached on disk by
:mod:`workers.embedding_cache`) and this module feeds the engine in event-time
order, in micro-batches, recording each document's topic *when it was
processed*, then computes the yardsticks described in ``docs/evaluation.md``.
"""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from workers.alert_metrics import AlertRecord, alert_scores, majority_label
from workers.alerts import Alert, AlertDetector, AlertSettings
from workers.metrics import bcubed, npmi_coherence, partition_scores, topic_diversity
from workers.progress import ProgressReport
from workers.tokenize import tokenize_many
from workers.topic_types import TopicEngine

#: Micro-batch of the replay: at most this many documents (the track agent's
#: batch under load) ...
DEFAULT_BATCH = 256
#: ... spanning at most this much event time: the pipeline's batching window
#: (the embed and track agents wait at most 0.5 s and 0.2 s for a batch to
#: fill), so the engine sees the stream as a live worker would have: a few
#: posts at a time when it is quiet, full batches when it is busy. Without a
#: span, a full batch of a sparse stream spans days and no alert can come
#: before the batch holding a story's first posts is processed (the measured
#: delay is then the batch, not the detector). docs/engine.md reports other
#: spans.
DEFAULT_SPAN_S = 1.0
#: RSS is also sampled after this many documents, to show memory is flat.
RSS_PROBE_DOCS = 10_000


class StreamFormatError(ValueError):
    """A labeled stream line that cannot be evaluated (with its line number)."""


@dataclass
class LabeledStream:
    """Documents of a labeled stream, sorted by event time.

    ``file_order[i]`` is the position in the file of the ``i``-th document
    in time order (embedding caches are kept in file order).
    """

    ids: list[str]
    ts: np.ndarray
    texts: list[str]
    labels: list[str]
    file_order: np.ndarray
    #: ``user_id`` of each document ("" where the line has none).
    users: list[str] = field(default_factory=list)

    def has_users(self) -> bool:
        return any(self.users)

    def __len__(self) -> int:
        return len(self.ids)

    def texts_in_file_order(self) -> list[str]:
        out = [""] * len(self.texts)
        for text, pos in zip(self.texts, self.file_order.tolist(), strict=True):
            out[pos] = text
        return out


def parse_ts(value: object) -> float:
    """Epoch seconds from a number or an ISO-8601 string (``Z`` allowed)."""
    if isinstance(value, bool):
        raise ValueError("ts must be a number or an ISO-8601 string, not a boolean")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    raise ValueError(f"ts must be a number or an ISO-8601 string, got {type(value).__name__}")


def load_labeled_stream(path: str | Path, limit: int | None = None) -> LabeledStream:
    """Read ``id``, ``ts``, ``text``, ``label`` per JSON line; sort by ``ts`` (stable).

    ``limit`` keeps the first N lines of the file. Raises
    :class:`StreamFormatError` naming the first bad line.
    """
    ids: list[str] = []
    ts: list[float] = []
    texts: list[str] = []
    labels: list[str] = []
    users: list[str] = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if limit is not None and len(ids) >= limit:
                break
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text, label = row["text"], row["label"]
                if not isinstance(text, str) or not isinstance(label, str | int):
                    raise ValueError("text must be a string and label a string or integer")
                ts.append(parse_ts(row["ts"]))
            except (json.JSONDecodeError, KeyError, ValueError) as exc:
                raise StreamFormatError(f"{path}:{lineno}: {exc!r}") from exc
            ids.append(str(row.get("id", lineno)))
            texts.append(text)
            labels.append(str(label))
            users.append(str(row.get("user_id") or ""))
    order = np.argsort(np.asarray(ts), kind="stable")
    return LabeledStream(
        ids=[ids[i] for i in order],
        ts=np.asarray(ts, dtype=np.float64)[order],
        texts=[texts[i] for i in order],
        labels=[labels[i] for i in order],
        file_order=order,
        users=[users[i] for i in order],
    )


def rss_mb() -> float:
    """Current resident set size of this process in MiB (Linux ``/proc``)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return float("nan")


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Replay:
    """What a replay recorded."""

    pred: np.ndarray  # topic id per document at processing time (-1: unassigned)
    engine_seconds: float  # CPU time inside learn_many (plus the final keyword fold)
    batches: list[Any] = field(default_factory=list)  # BatchResults, when kept
    rss_at_probe: float = float("nan")
    rss_end: float = float("nan")


def batch_bounds(ts: np.ndarray, max_docs: int, max_span_s: float | None) -> list[tuple[int, int]]:
    """Micro-batches ``[start, stop)`` of at most ``max_docs`` spanning at most ``max_span_s``.

    Without a span every batch is full: the track agent under load. With a
    span, a quiet stretch of the stream is processed a few posts at a time,
    as when living through it (e.g. 3600 s = a replay at 3600x real time
    through the agent's one-second batching window).
    """
    n = len(ts)
    if max_span_s is None:
        return [(s, min(n, s + max_docs)) for s in range(0, n, max_docs)]
    bounds = []
    start = 0
    while start < n:
        limit = min(n, start + max_docs)
        # First position past the span, within the doc limit (ts is sorted).
        stop = int(np.searchsorted(ts[start:limit], ts[start] + max_span_s, side="right")) + start
        stop = max(stop, start + 1)
        bounds.append((start, stop))
        start = stop
    return bounds


BatchHook = Callable[[int, int, Any, np.ndarray], None]


def chain_hooks(*hooks: BatchHook | None) -> BatchHook | None:
    """One ``on_batch`` hook calling each of ``hooks`` (None ones left out) in turn."""
    live = [h for h in hooks if h is not None]
    if not live:
        return None

    def call(start: int, stop: int, result: Any, pred: np.ndarray) -> None:
        for hook in live:
            hook(start, stop, result, pred)

    return call


def replay(
    engine: TopicEngine,
    embeddings: np.ndarray,
    stream: LabeledStream,
    terms: Sequence[list[str]],
    batch_size: int = DEFAULT_BATCH,
    on_batch: Callable[[int, int, Any, np.ndarray], None] | None = None,
    progress: bool = True,
    batch_span_s: float | None = None,
) -> Replay:
    """Feed the engine in micro-batches, in order, and time only the engine.

    ``terms`` are tokenised beforehand (once per stream), so
    ``engine_seconds`` leaves tokenising out; the live ``track`` stage passes
    no terms and its engine tokenises each batch itself. Time is CPU time of
    this process, which the other processes of a shared machine do not
    inflate. ``on_batch(start, stop, result, pred)``
    sees every batch after it was processed (alerting runs there).
    """
    n = len(stream)
    pred = np.full(n, -1, dtype=np.int64)
    spent = 0.0
    rss_probe = float("nan")
    with ProgressReport("clustering", n, enabled=progress) as report:
        for start, stop in batch_bounds(stream.ts, batch_size, batch_span_s):
            t0 = time.process_time()
            res = engine.learn_many(
                embeddings[start:stop],
                stream.ts[start:stop],
                stream.texts[start:stop],
                stream.ids[start:stop],
                list(terms[start:stop]),
            )
            spent += time.process_time() - t0
            pred[start:stop] = res.topic_ids
            if on_batch is not None:
                on_batch(start, stop, res, pred)
            if start < RSS_PROBE_DOCS <= stop:
                rss_probe = rss_mb()
            report.update(stop)
        t0 = time.process_time()
        engine.topics()  # folds pending keyword statistics: part of the engine's work
        spent += time.process_time() - t0
    return Replay(pred=pred, engine_seconds=spent, rss_at_probe=rss_probe, rss_end=rss_mb())


class AlertReplay:
    """Runs the alert detector (and the naive rule: alert on every birth) during a replay."""

    def __init__(
        self, engine: TopicEngine, stream: LabeledStream, settings: AlertSettings | None = None
    ) -> None:
        self.engine = engine
        self.stream = stream
        # Wall-clock creation time is irrelevant to a replay: keep alerts deterministic.
        self.detector = AlertDetector(settings=settings, clock=lambda: 0.0)
        self.records: list[AlertRecord] = []
        self.naive: list[AlertRecord] = []
        self.alerts: list[Alert] = []

    def __call__(self, start: int, stop: int, result: Any, pred: np.ndarray) -> None:
        labels = self.stream.labels
        for alert in self.detector.observe(self.engine, result, self.stream.ts[start:stop]):
            self.alerts.append(alert)
            name = majority_label(pred, labels, alert.topic_id, stop)
            self.records.append(
                AlertRecord(
                    alert.window_end,
                    stop,
                    alert.topic_id,
                    alert.kind,
                    name,
                    alert.story_id,
                    alert.label,
                )
            )
        for event in result.lineage:
            if event.kind == "born":
                name = majority_label(pred, labels, event.topic_id, stop)
                self.naive.append(AlertRecord(event.ts, stop, event.topic_id, "born", name))

    def alert_rows(self) -> list[dict[str, object]]:
        """Every alert of the replay, in order: when, what kind, the label it named, its story."""
        return [rec.to_dict() for rec in self.records]

    def scores(self) -> dict[str, float]:
        out = alert_scores(self.records, self.stream.labels, self.stream.ts)
        out.update(alert_scores(self.naive, self.stream.labels, self.stream.ts, "naive_alerts"))
        return out


def topic_word_lists(engine: TopicEngine, min_size: int = 5, k: int = 10) -> list[list[str]]:
    """Top-``k`` keywords of every topic (live or dormant, not merged) with ``min_size`` docs."""
    views = engine.topics(include_inactive=True)
    return [
        v.keywords[:k] for v in views if v.status != "merged" and v.size >= min_size and v.keywords
    ]


def score(
    engine: TopicEngine, stream: LabeledStream, terms: Sequence[list[str]], run: Replay
) -> dict[str, Any]:
    """The clustering and topic-word yardsticks for one replay."""
    p, r, f = bcubed(stream.labels, run.pred)
    words = topic_word_lists(engine)
    doc_sets = [set(t) for t in terms]
    stats = engine.stats()
    assigned = run.pred[run.pred >= 0]
    return {
        "engine": getattr(engine, "name", type(engine).__name__),
        "n_docs": len(stream),
        "n_labels": len(set(stream.labels)),
        "n_topics": len(np.unique(assigned)),
        "topics_ever": int(stats.get("topics_ever", 0)),
        "unassigned_share": float(np.mean(run.pred < 0)) if len(run.pred) else 0.0,
        "bcubed_precision": p,
        "bcubed_recall": r,
        "bcubed_f1": f,
        **partition_scores(stream.labels, run.pred),
        "npmi_coherence": npmi_coherence(words, doc_sets),
        "topic_diversity": topic_diversity(words),
        "engine_seconds": run.engine_seconds,
        "engine_docs_per_s": len(stream) / max(run.engine_seconds, 1e-9),
        "rss_mb_after_10k": run.rss_at_probe,
        "rss_mb_end": run.rss_end,
        "peak_rss_mb": peak_rss_mb(),
    }


def tokenize_stream(stream: LabeledStream) -> list[list[str]]:
    """Keyword terms of every document (done once, outside the engine timing)."""
    return tokenize_many(stream.texts)
