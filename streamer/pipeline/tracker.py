"""The track stage's logic without Kafka: one engine per stream, rows out, checkpoints.

Next to each engine runs the stream's alert detector (``workers.alerts``),
fed every batch's result; its alerts come out with the rows, and its state is
checkpointed with the engine's, at the same offsets.

The ``track`` agent feeds it decoded ``embedded`` batches and publishes what it
returns. Kept free of Faust so it is unit-tested with a stand-in engine.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from streamer.pipeline import checkpoint
from streamer.pipeline.codec import EmbeddedBatch, decode_vectors, encode_vectors
from streamer.pipeline.runtime import TOP_TOPICS, topic_summary
from workers.alerts import AlertDetector, AlertSettings
from workers.engines import make_engine, restore_engine
from workers.event_clock import HELD, LATE, OK, EventClock, EventTimePolicy
from workers.interests import InterestSettings, UserInterests, UserProfile
from workers.tokenize import tokenize_many
from workers.topic_types import UNASSIGNED, BatchResult, TopicEngine, TopicView

log = logging.getLogger(__name__)

#: Documents per stream remembered while they wait in the engine's outlier
#: buffer, so a late assignment can rewrite their whole ``events`` row. Older
#: ones are forgotten first (their late assignment is then counted, not stored).
MAX_PENDING = 100_000
#: Recently *assigned* documents per stream remembered too: a topic born later
#: may take them back from an older topic (a late assignment with a higher
#: version). Twice the engine's default ring of recent posts (4096), which is
#: all it can take back from.
MAX_RECLAIMABLE = 8192

EngineFactory = Callable[..., TopicEngine]
EngineRestorer = Callable[[bytes], TopicEngine]


@dataclass
class TrackOutput:
    """Rows to publish for one batch, and what the dashboard shows."""

    stream: str
    assignments: list[dict[str, Any]] = field(default_factory=list)
    topics: list[dict[str, Any]] = field(default_factory=list)
    summaries: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, float] = field(default_factory=dict)
    last_ts: float = 0.0
    late: int = 0
    late_unknown: int = 0
    #: Alerts raised by this batch (``Alert.to_dict()``, schemas/alert.schema.json).
    alerts: list[dict[str, Any]] = field(default_factory=list)
    #: 1 when the detector failed on this batch (logged; the rows still go out).
    alert_errors: int = 0
    #: Events the event-time policy refused, with the reason (to dead-letter).
    rejected: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    #: Events older than the allowed lateness: stored, assigned without learning.
    too_late: int = 0
    #: ``user_interests`` rows of the profiles this batch changed (docs/interests.md).
    interests: list[dict[str, Any]] = field(default_factory=list)
    #: 1 when the profiles failed on this batch (logged; the rows still go out).
    interest_errors: int = 0


def _event_row(ev: dict[str, Any], stream: str) -> dict[str, Any]:
    return {
        "event_id": str(ev["id"]),
        "stream": stream,
        "ts": float(ev["ts"]),
        "text": ev.get("text", ""),
        "user_id": ev.get("user_id", ""),
        "lang": ev.get("lang", ""),
        "source": ev.get("source", ""),
    }


def interest_row(profile: UserProfile, stream: str) -> dict[str, Any]:
    """The ``user_interests`` table row of a profile."""
    return {
        "stream": stream,
        "user_id": profile.user_id,
        "version": int(profile.version),
        "as_of": float(profile.as_of),
        "last_ts": float(profile.last_ts),
        "posts": int(profile.posts),
        "mass": float(profile.mass),
        "topic_ids": [int(t) for t in profile.topic_ids],
        "shares": [round(float(x), 6) for x in profile.shares],
        "weights": [round(float(x), 6) for x in profile.weights],
        "topic_last_ts": [int(x) for x in profile.topic_last_ts],
        "keywords": list(profile.keywords),
        "keyword_scores": [round(float(x), 6) for x in profile.keyword_scores],
        "vector": np.asarray(profile.vector, dtype=np.float32).round(6).tolist(),
    }


def topic_row(view: TopicView, stream: str, story_id: int | None = None) -> dict[str, Any]:
    """The ``topics`` table row for a ``TopicView`` (``story_id``: its own id when omitted)."""
    return {
        "topic_id": int(view.topic_id),
        "stream": stream,
        "version": int(view.version),
        "born_at": float(view.born_at),
        "updated_at": float(view.updated_at),
        "size": int(view.size),
        "weight": float(view.weight),
        "centroid": np.asarray(view.centroid, dtype=np.float32).round(6).tolist(),
        "keywords": list(view.keywords),
        "keyword_scores": [float(x) for x in view.keyword_scores],
        "label": view.label,
        "status": view.status,
        "merged_into": view.merged_into,
        "split_from": view.split_from,
        "examples": list(view.examples),
        "story_id": int(view.topic_id if story_id is None else story_id),
    }


class Tracker:
    """Engines per stream, the offsets they cover, and the rows of waiting documents."""

    def __init__(
        self,
        checkpoints: checkpoint.CheckpointStore | str | Path,
        engine: str = "topictrack",
        engine_params: dict[str, Any] | None = None,
        factories: tuple[EngineFactory, EngineRestorer] | None = None,
        max_pending: int = MAX_PENDING,
        alert_settings: AlertSettings | None = None,
        clock: Callable[[], float] = time.time,
        event_time: EventTimePolicy | None = None,
        broker_epoch: str = "",
        interest_settings: InterestSettings | None = None,
    ) -> None:
        """``factories``: ``(make, restore)`` engines (default: ``workers.engines``'
        ``make_engine``/``restore_engine``; tests pass a stand-in);
        ``alert_settings``, ``event_time``: None for the defaults; ``clock``: the
        wall clock (alerts' ``created_at``, the event-time policy's future bound)."""
        self.checkpoints = (
            checkpoints
            if isinstance(checkpoints, checkpoint.CheckpointStore)
            else checkpoint.LocalCheckpoints(checkpoints)
        )
        #: Checkpointed offsets count only when written against this broker epoch
        #: (``Settings.broker_epoch``): a fresh in-memory broker restarts at offset 0.
        self.broker_epoch = broker_epoch
        self.engine_name = engine
        self.engine_params = dict(engine_params or {})
        self.factories: tuple[EngineFactory, EngineRestorer] = factories or (
            make_engine,
            restore_engine,
        )
        self.max_pending = max_pending
        self.engines: dict[str, TopicEngine] = {}
        self.offsets: dict[str, int] = {}
        self.pending: dict[str, OrderedDict[str, dict[str, Any]]] = {}
        #: stream -> event id -> row (with the version last written) of recent assignments
        self.reclaimable: dict[str, OrderedDict[str, dict[str, Any]]] = {}
        self.alert_settings = alert_settings or AlertSettings()
        self.clock = clock
        self.detectors: dict[str, AlertDetector] = {}
        self.event_time = event_time or EventTimePolicy()
        #: stream -> its guarded event-time clock
        self.clocks: dict[str, EventClock] = {}
        #: stream -> token -> (event, vector) of events held until their time is confirmed
        self.held: dict[str, dict[int, tuple[dict[str, Any], np.ndarray]]] = {}
        self._next_token = 0
        #: stream -> the partition of ``embedded`` its messages arrive on
        self.partition_of: dict[str, int] = {}
        #: partitions whose checkpoint was read (or found missing)
        self.loaded: set[int] = set()
        self._states: dict[int, checkpoint.CheckpointState] = {}
        self.interest_settings = interest_settings or InterestSettings()
        #: stream -> its users' topic interests (checkpointed with the engine)
        self.interests: dict[str, UserInterests] = {}

    # -- checkpoints -----------------------------------------------------
    def load(self, partitions: Iterable[int] | None = None) -> bool:
        """Restore the state of ``partitions`` of ``embedded`` (default: every saved
        one); True when any was found. A partition is loaded at most once until
        :meth:`drop` lets it go.
        """
        wanted = self.checkpoints.partitions() if partitions is None else list(partitions)
        found = False
        for part in wanted:
            found |= self._load_partition(int(part))
        return found

    def ensure(self, partition: int) -> None:
        """Load ``partition``'s state before its first message is learned here."""
        if partition not in self.loaded:
            self._load_partition(partition)

    def _load_partition(self, part: int) -> bool:
        if part in self.loaded:
            return False
        state = self.checkpoints.load(part)
        self.loaded.add(part)
        if state is None:
            self._states[part] = checkpoint.CheckpointState(engine=self.engine_name)
            return False
        where = f"{self.checkpoints.url} partition {part}"
        if state.engine and state.engine != self.engine_name:
            raise checkpoint.CheckpointError(
                f"checkpoint in {where} is for engine {state.engine!r}, "
                f"not {self.engine_name!r}: move it away or pass --engine {state.engine}"
            )
        _, restore = self.factories
        for s, blob in state.blobs.items():
            self.engines[s] = restore(blob)
            self.partition_of[s] = part
        if state.broker_epoch == self.broker_epoch:
            self.offsets.update(state.offsets)
        else:
            log.info("partition %d: checkpoint offsets are of another broker; ignored", part)
        for s, rows in state.pending.items():
            self.pending[s] = OrderedDict((r["event_id"], r) for r in rows)
        for s, rows in state.reclaimable.items():
            self.reclaimable[s] = OrderedDict((r["event_id"], r) for r in rows)
        # Today's settings, not the saved ones: --alert-params may have changed.
        for s, blob in state.detectors.items():
            self.detectors[s] = AlertDetector.restore(blob, self.alert_settings, self.clock)
        for s in set(state.blobs) - set(state.detectors):
            log.warning("stream %r: checkpoint has no alert state; alerting starts afresh", s)
        for s, c in state.clocks.items():
            self.clocks[s] = EventClock.from_state(c, self.event_time, self.clock)
        for s, blob in state.interests.items():
            self.interests[s] = UserInterests.restore(blob, self.interest_settings)
        for s in state.blobs:
            eng = self.engines[s]
            if s not in self.clocks and math.isfinite(eng.last_ts):
                # A checkpoint from before the event-time policy: the engine's clock is it.
                self.clock_for(s).watermark = float(eng.last_ts)
        for s, rows in state.held.items():
            self.held[s] = {
                int(r["token"]): (r["event"], decode_vectors(r["vector"], 1, r["dim"])[0])
                for r in rows
            }
            self._next_token = max([self._next_token, *(t + 1 for t in self.held[s])])
        self._states[part] = state
        log.info(
            "restored %d stream(s) of partition %d from %s, generation %d",
            len(state.blobs),
            part,
            self.checkpoints.url,
            state.generation,
        )
        return True

    def save(self, partitions: Iterable[int] | None = None) -> int:
        """Checkpoint ``partitions`` (default: every one held here) with the offsets
        they cover; return the newest generation written.

        Only partitions whose state is held here are written: saving one that was
        assigned but not loaded yet would overwrite its checkpoint with nothing.
        """
        owned = self.owned()
        parts = sorted(owned if partitions is None else owned & set(partitions))
        newest = 0
        for part in parts:
            newest = max(newest, self._save_partition(part))
        return newest

    def _save_partition(self, part: int) -> int:
        streams = [s for s, p in self.partition_of.items() if p == part]
        state = self._states.setdefault(part, checkpoint.CheckpointState())
        state.engine = self.engine_name
        state.broker_epoch = self.broker_epoch
        state.blobs = {s: self.engines[s].snapshot() for s in streams if s in self.engines}
        state.offsets = {k: v for k, v in self.offsets.items() if _partition_of_key(k) == part}
        state.pending = {s: list(self.pending[s].values()) for s in streams if s in self.pending}
        state.reclaimable = {
            s: list(self.reclaimable[s].values()) for s in streams if s in self.reclaimable
        }
        state.detectors = {s: self.detectors[s].snapshot() for s in streams if s in self.detectors}
        state.clocks = {s: self.clocks[s].state() for s in streams if s in self.clocks}
        state.interests = {s: self.interests[s].snapshot() for s in streams if s in self.interests}
        state.held = {
            s: [
                {"token": t, "event": ev, "dim": len(x), "vector": encode_vectors(x[None, :])}
                for t, (ev, x) in self.held[s].items()
            ]
            for s in streams
            if s in self.held
        }
        return self.checkpoints.save(part, state)

    def owned(self) -> set[int]:
        """Partitions whose state this tracker holds (loaded, or learned from)."""
        return self.loaded | set(self.partition_of.values())

    def drop(self, partitions: Iterable[int]) -> list[str]:
        """Forget ``partitions``' streams and offsets (another worker owns them now);
        return the streams dropped. Save them first when their work must be kept."""
        parts = set(partitions)
        gone = [s for s, p in self.partition_of.items() if p in parts]
        for s in gone:
            for table in (
                self.engines,
                self.pending,
                self.reclaimable,
                self.detectors,
                self.clocks,
                self.held,
                self.interests,
                self.partition_of,
            ):
                table.pop(s, None)
        for k in [k for k in self.offsets if _partition_of_key(k) in parts]:
            del self.offsets[k]
        self.loaded -= parts
        for part in parts:
            self._states.pop(part, None)
        return gone

    # -- alerts ------------------------------------------------------------
    def detector_for(self, stream: str) -> AlertDetector:
        det = self.detectors.get(stream)
        if det is None:
            det = AlertDetector(stream, self.alert_settings, self.clock)
            self.detectors[stream] = det
        return det

    def _observe(
        self, stream: str, eng: TopicEngine, res: BatchResult, ts: np.ndarray, out: TrackOutput
    ) -> None:
        """Feed the batch to the stream's detector; a detector failure never stops the stream."""
        try:
            raised = self.detector_for(stream).observe(eng, res, ts)
        except Exception:
            log.exception("stream %r: the alert detector failed on a batch", stream)
            out.alert_errors = 1
            return
        out.alerts = [a.to_dict() for a in raised]

    # -- offsets -----------------------------------------------------------
    @staticmethod
    def _tp(topic: str, partition: int) -> str:
        return f"{topic}:{partition}"

    def covered(self, topic: str, partition: int, offset: int) -> bool:
        """True when the checkpointed state already learned this input message."""
        return offset <= self.offsets.get(self._tp(topic, partition), -1)

    def mark(self, topic: str, partition: int, offset: int) -> None:
        key = self._tp(topic, partition)
        if offset > self.offsets.get(key, -1):
            self.offsets[key] = offset

    # -- learning ------------------------------------------------------------
    def engine_for(self, stream: str, dim: int) -> TopicEngine:
        eng = self.engines.get(stream)
        if eng is None:
            make, _ = self.factories
            eng = make(self.engine_name, dim=dim, **self.engine_params)
            self.engines[stream] = eng
            log.info("new %s engine for stream %r (dim %d)", self.engine_name, stream, dim)
        if int(eng.dim) != dim:
            raise ValueError(
                f"stream {stream!r}: engine has dim {eng.dim} but vectors have dim {dim} "
                "(model changed? move the checkpoint away to start over)"
            )
        return eng

    def clock_for(self, stream: str) -> EventClock:
        clock = self.clocks.get(stream)
        if clock is None:
            clock = EventClock(self.event_time, self.clock)
            self.clocks[stream] = clock
        return clock

    def _admit(
        self, batch: EmbeddedBatch, out: TrackOutput
    ) -> tuple[list[dict[str, Any]], np.ndarray, list[dict[str, Any]], np.ndarray]:
        """Apply the stream's event-time policy (``workers.event_clock``).

        Returns ``(events, vectors)`` to learn now (this batch's in-bounds
        events and earlier held ones released by it) and ``(events, vectors)``
        too late to learn. Held events wait in ``self.held``; rejected ones go
        to ``out.rejected`` with their reason.
        """
        stream = batch.stream
        held = self.held.setdefault(stream, {})
        ts = np.asarray([float(e["ts"]) for e in batch.events], dtype=np.float64)
        tokens = list(range(self._next_token, self._next_token + len(ts)))
        self._next_token += len(ts)
        adm = self.clock_for(stream).admit(ts, tokens)
        v = adm.verdict
        if not adm.released and not adm.expired and (v == OK).all():
            return batch.events, batch.vectors, [], batch.vectors[:0]
        for i in np.flatnonzero(v == HELD).tolist():
            held[tokens[i]] = (batch.events[i], batch.vectors[i])
        for i, reason in adm.reasons.items():
            out.rejected.append((batch.events[i], reason))
        for token, reason in adm.expired:
            ev, _ = held.pop(token)
            out.rejected.append((ev, reason))
        ok = np.flatnonzero(v == OK)
        late = np.flatnonzero(v == LATE)
        released = [held.pop(token) for token in adm.released]
        events = [batch.events[i] for i in ok] + [ev for ev, _ in released]
        dim = batch.vectors.shape[1]
        again = np.asarray([x for _, x in released], np.float32).reshape(-1, dim)
        vectors = np.concatenate([batch.vectors[ok], again])
        return events, vectors, [batch.events[i] for i in late], batch.vectors[late]

    def expire_held(self) -> list[TrackOutput]:
        """Settle the held events of quiet streams that waited too long: a stream that
        went quiet on them resumed (learned now), the others go to dead-letter."""
        outs = []
        for stream, clock in self.clocks.items():
            adm = clock.settle()
            if not (adm.expired or adm.released):
                continue
            out = TrackOutput(stream=stream)
            held = self.held.get(stream, {})
            out.rejected = [(held.pop(token)[0], reason) for token, reason in adm.expired]
            released = [held.pop(token) for token in adm.released]
            eng = self.engines.get(stream)
            if eng is not None:  # the API shows a stream's topics from its last output
                if released:
                    vectors = np.asarray([x for _, x in released], np.float32)
                    self._learn(stream, eng, [ev for ev, _ in released], vectors, out)
                self._describe(eng, out)
            outs.append(out)
        return outs

    def learn(self, batch: EmbeddedBatch, partition: int = 0) -> TrackOutput:
        """Assign one batch of one stream, from ``partition`` of ``embedded``; return the
        rows to publish. CPU-bound."""
        stream = batch.stream
        self.ensure(partition)
        self.partition_of[stream] = partition
        n, dim = batch.vectors.shape
        out = TrackOutput(stream=stream)
        if n == 0:
            return out
        eng = self.engine_for(stream, dim)
        events, vectors, late_events, late_vectors = self._admit(batch, out)
        if events:
            self._learn(stream, eng, events, vectors, out)
        if late_events:
            # Too late for the engine's clock: assigned against today's topics without
            # learning, and counted in their own minute by the store.
            res = eng.predict_many(late_vectors)
            out.assignments.extend(_assignment_rows(late_events, stream, res))
            out.too_late = len(late_events)
        self._describe(eng, out)
        return out

    def story_of(self, stream: str, topic_id: int) -> int:
        """The story a topic belongs to (its alert detector's story book; itself without one).

        Like a failing detector, a missing story book never stops the stream.
        """
        stories = getattr(self.detector_for(stream), "stories", None)
        return int(topic_id) if stories is None else stories.story(int(topic_id))

    def _describe(self, eng: TopicEngine, out: TrackOutput) -> None:
        """The stream's topics and engine stats as they stand, for the API."""
        out.summaries = [
            topic_summary(v, out.stream, self.story_of(out.stream, v.topic_id))
            for v in eng.topics()[:TOP_TOPICS]
        ]
        out.stats = {k: float(v) for k, v in eng.stats().items()}
        out.last_ts = float(eng.last_ts)

    def _learn(
        self,
        stream: str,
        eng: TopicEngine,
        events: list[dict[str, Any]],
        vectors: np.ndarray,
        out: TrackOutput,
    ) -> None:
        """Learn admitted events: their rows, late assignments, alerts and changed topics."""
        ts = np.asarray([float(e["ts"]) for e in events], dtype=np.float64)
        texts = [str(e.get("text", "")) for e in events]
        ids = [str(e["id"]) for e in events]
        res = eng.learn_many(vectors, ts, texts, ids)
        pending = self.pending.setdefault(stream, OrderedDict())
        reclaimable = self.reclaimable.setdefault(stream, OrderedDict())
        rows = _assignment_rows(events, stream, res)
        for row in rows:
            base = {k: row[k] for k in _EVENT_COLUMNS}
            if row["topic_id"] == UNASSIGNED:
                pending[base["event_id"]] = base
            else:
                reclaimable[base["event_id"]] = {**base, "version": 0}
        out.assignments.extend(rows)
        for late in res.late:
            sims = np.asarray(late.similarity, dtype=np.float32).reshape(-1)
            for j, doc_id in enumerate(late.doc_ids):
                # A buffered document getting its first topic, or an assigned
                # one taken back by a newborn topic: each rewrite is a new version.
                base = pending.pop(str(doc_id), None) or reclaimable.pop(str(doc_id), None)
                if base is None:
                    out.late_unknown += 1
                    continue
                version = int(base.pop("version", 0)) + 1
                sim = float(sims[j]) if j < sims.size else 0.0
                out.assignments.append(
                    {
                        **base,
                        "topic_id": int(late.topic_id),
                        "similarity": sim,
                        "topk_ids": [int(late.topic_id)],
                        "topk_probs": [1.0],
                        "version": version,
                    }
                )
                reclaimable[base["event_id"]] = {**base, "version": version}
                out.late += 1
        while len(pending) > self.max_pending:
            pending.popitem(last=False)
        while len(reclaimable) > MAX_RECLAIMABLE:
            reclaimable.popitem(last=False)
        self._observe(stream, eng, res, ts, out)
        self._profile(stream, events, vectors, ts, texts, ids, res, out)
        for tid in dict.fromkeys(int(t) for t in res.changed):
            out.topics.append(topic_row(eng.topic(tid), stream, self.story_of(stream, tid)))

    def _profile(
        self,
        stream: str,
        events: list[dict[str, Any]],
        vectors: np.ndarray,
        ts: np.ndarray,
        texts: list[str],
        ids: list[str],
        res: BatchResult,
        out: TrackOutput,
    ) -> None:
        """Fold the batch into the stream's user profiles; their changed rows go out."""
        users = [str(e.get("user_id") or "") for e in events]
        prof = self.interests.get(stream)
        if prof is None:
            if not any(users):
                return  # a stream without users keeps no profiles
            prof = UserInterests(vectors.shape[1], self.interest_settings)
            self.interests[stream] = prof
        terms = tokenize_many(texts) if any(users) else None
        try:
            prof.observe(users, ts, vectors, res, terms, ids)
        except Exception:
            # Like the alert detector: profiles never stop the stream's assignments.
            log.exception("stream %r: the user profiles failed on a batch", stream)
            out.interest_errors = 1
        out.interests = [interest_row(p, stream) for p in prof.drain_changed()]


_EVENT_COLUMNS = ("event_id", "stream", "ts", "text", "user_id", "lang", "source")


def _assignment_rows(
    events: list[dict[str, Any]], stream: str, res: BatchResult
) -> list[dict[str, Any]]:
    """Version-0 ``events`` rows of ``events`` from the engine's result."""
    topk_ids = np.asarray(res.topk_ids)
    topk_probs = np.asarray(res.topk_probs)
    rows = []
    for i in range(len(events)):
        keep = topk_ids[i] != UNASSIGNED if topk_ids.ndim == 2 else np.zeros(0, bool)
        rows.append(
            {
                **_event_row(events[i], stream),
                "topic_id": int(res.topic_ids[i]),
                "similarity": float(res.similarity[i]),
                "topk_ids": [int(x) for x in topk_ids[i][keep]] if keep.size else [],
                "topk_probs": [float(x) for x in topk_probs[i][keep]] if keep.size else [],
                "version": 0,
            }
        )
    return rows


def _partition_of_key(key: str) -> int:
    """The partition of an offsets key ``"topic:partition"``."""
    return int(key.rsplit(":", 1)[1])
