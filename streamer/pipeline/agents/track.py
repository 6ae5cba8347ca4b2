"""``track``: one online topic engine per stream; assignments, topic snapshots and alerts out.

Each stream's alert detector runs next to its engine (:mod:`streamer.pipeline.tracker`).
An alert is published to Kafka ``alerts`` with the batch's rows; once Kafka
holds it, it is handed to the webhook sender (``--alert-webhook``), which
delivers in the background and never holds up this stage.

Input offsets are held until a checkpoint of the engines covers them
(periodically and at shutdown), so after a crash Kafka redelivers exactly what
the restored state has not learned; messages the checkpoint already covers
are skipped, so a restart neither loses topics nor re-births them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from streamer.config import TOPIC_EMBEDDED, ConfigError
from streamer.pipeline.agents.acks import Held
from streamer.pipeline.checkpoint import CheckpointStore, LocalCheckpoints
from streamer.pipeline.codec import (
    CodecError,
    EmbeddedBatch,
    decode_embedded,
    encode_alert,
    encode_row_messages,
)
from streamer.pipeline.context import Pipeline
from streamer.pipeline.params import alert_settings, event_time_policy, interest_settings
from streamer.pipeline.runtime import TOP_TOPICS, topic_summary
from streamer.pipeline.tracker import Tracker, TrackOutput
from streamer.pipeline.webhook import WebhookSender, WebhookSettings

log = logging.getLogger(__name__)


def register(
    p: Pipeline, tracker: Tracker | None = None, checkpoints: CheckpointStore | None = None
) -> Tracker:
    """Add the ``track`` agent to the pipeline's app; return its :class:`Tracker`.

    ``checkpoints``: where partitions' state is kept (default: a folder under
    ``--data-dir``); every track worker of a pipeline must reach the same one.
    """
    s = p.settings
    tracker = tracker or Tracker(
        checkpoints or LocalCheckpoints(p.data_dir / "checkpoints" / "track"),
        engine=s.engine,
        engine_params=s.engine_params,
        alert_settings=alert_settings(s.alert_params),
        event_time=event_time_policy(s.event_time_params),
        broker_epoch=s.broker_epoch,
        interest_settings=interest_settings(s.interest_params),
    )
    # Engines are plain Python objects touched by one thread at a time: this one.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="track-engine")
    p.tracker = tracker
    p.engine_pool = pool

    # A bad --engine/--engine-params must stop the start, not dead-letter every
    # batch later; the probe's dimension is irrelevant to the check.
    try:
        tracker.factories[0](s.engine, dim=8, **s.engine_params)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"--engine {s.engine} --engine-params {s.engine_params}: {exc}") from exc
    # A partition's state is restored when Kafka assigns the partition here, before
    # its messages are fetched; the worker is not ready until the first assignment.
    p.runtime.starting.add("checkpoints")
    if s.alert_webhook:
        _start_webhook(p, s.alert_webhook)

    held = Held()
    # Serialises a batch (learn + publish) against checkpoints, so a checkpoint
    # only ever sees engines that hold exactly what was published.
    lock = asyncio.Lock()
    last = [time.monotonic()]

    async def checkpoint(force: bool = False) -> None:
        """Save engines and offsets, then let the offsets they cover commit."""
        async with lock:
            if not len(held) and not force:
                return
            await asyncio.wrap_future(pool.submit(tracker.save, _assigned_parts(p)))
            held.release()
            last[0] = time.monotonic()
            p.runtime.bump("track.checkpoints")

    async def track(stream: Any) -> None:
        clean = True
        try:
            async for events in stream.take_events(s.track_batch, within=s.track_within):
                async with lock:
                    started = time.monotonic()
                    held.add(events)
                    batches = await _decode(p, tracker, events)
                    p.runtime.bump("track.received", sum(len(b.events) for b, _ in batches))
                    clean = False
                    outputs = await asyncio.wrap_future(pool.submit(_learn, tracker, batches))
                    try:
                        await _publish(p, outputs)
                    except Exception as exc:
                        # Nothing may vanish silently: record the inputs whose
                        # output could not be published (if even that fails,
                        # the agent crashes and the offsets stay uncommitted).
                        log.exception("track: publishing a batch failed")
                        for ev in events:
                            reason = f"track: publish failed: {exc!r}"
                            await (await p.send_dead_letter(ev.value, reason, "track", ev))
                        p.runtime.bump("track.dead_lettered", len(events))
                    clean = True
                    p.runtime.batch_seconds.labels("track").observe(time.monotonic() - started)
                    # Only messages of partitions still assigned here: a skipped
                    # message of a moved partition must not advance its offsets,
                    # or the checkpoint would claim work this engine never did
                    # and the new owner would skip it as covered (lost events).
                    assigned = p.app.consumer.assignment()
                    for ev in events:
                        if ev.message.tp in assigned:
                            m = ev.message
                            tracker.mark(m.topic, m.partition, m.offset)
                if time.monotonic() - last[0] >= s.checkpoint_interval:
                    await checkpoint()
        finally:
            if clean:
                try:
                    # Through the pool: waits for a periodic save in flight. A
                    # consumer already stopped reports no assignment: then every
                    # partition held here is still ours to save.
                    parts = _assigned_parts(p) or None
                    pool.submit(tracker.save, parts).result(timeout=120)
                    held.release()
                except Exception:
                    log.exception("track: final checkpoint failed")
            else:
                # Cut off mid-batch: the engines may hold documents whose rows
                # were never sent. Keep the previous checkpoint and leave these
                # offsets uncommitted, so Kafka redelivers that stretch.
                log.warning(
                    "track: stopped mid-batch; keeping the previous checkpoint, "
                    "%d message(s) will be redelivered",
                    len(held),
                )

    async def on_assigned(app: Any, assigned: set[Any], **_: Any) -> None:
        """Take over the assigned partitions' state; let go of the others."""
        parts = {tp.partition for tp in assigned if tp.topic == TOPIC_EMBEDDED}
        try:
            async with lock:
                lost = tracker.owned() - parts
                if lost:
                    # Saved at revocation (or lost with a dead session): another
                    # worker continues them from the shared checkpoints.
                    dropped = tracker.drop(lost)
                    for stream in dropped:
                        p.runtime.topics.pop(stream, None)
                    log.info("track: partitions %s moved away (%d streams)", lost, len(dropped))
                await asyncio.wrap_future(pool.submit(tracker.load, parts))
                _publish_summaries(p, tracker)
        except Exception as exc:
            log.exception("track: cannot restore the state of partitions %s", sorted(parts))
            p.fail(f"cannot restore track state from {tracker.checkpoints.url}: {exc!r}")
        finally:
            p.runtime.starting.discard("checkpoints")

    async def on_revoked(app: Any, revoked: set[Any], **_: Any) -> None:
        """Checkpoint before Kafka hands partitions to another worker."""
        if any(tp.topic == TOPIC_EMBEDDED for tp in revoked):
            await checkpoint()

    p.app.on_partitions_assigned.connect(on_assigned)
    p.app.on_partitions_revoked.connect(on_revoked)

    @p.app.timer(interval=s.checkpoint_interval)
    async def idle_checkpoint() -> None:
        # Held events of a quiet stream wait no longer than the policy allows.
        async with lock:
            expired = await asyncio.wrap_future(pool.submit(tracker.expire_held))
            if expired:
                await _publish(p, [(out, None) for out in expired])
        if expired:
            await checkpoint(force=True)
        # When input pauses no batch comes to trigger the checkpoint.
        elif len(held) and time.monotonic() - last[0] >= s.checkpoint_interval:
            await checkpoint()

    p.agent(p.topics.embedded, name="track")(track)
    return tracker


def _assigned_parts(p: Pipeline) -> set[int]:
    """The ``embedded`` partitions this worker holds now: the only ones it may save.

    Between Kafka moving a partition away and ``on_partitions_assigned`` dropping
    its state, a save of it would overwrite the new owner's starting point.
    """
    return {tp.partition for tp in p.app.consumer.assignment() if tp.topic == TOPIC_EMBEDDED}


async def _decode(
    p: Pipeline, tracker: Tracker, events: list[Any]
) -> list[tuple[EmbeddedBatch, Any]]:
    """Decode ``embedded`` messages, skipping those the restored checkpoint covers
    and those of partitions no longer assigned here (another worker owns them now)."""
    batches = []
    assigned = p.app.consumer.assignment()
    for ev in events:
        if ev.message.tp not in assigned:
            p.runtime.bump("track.skipped_unassigned")
            continue
        m = ev.message
        if tracker.covered(m.topic, m.partition, m.offset):
            p.runtime.bump("track.skipped_covered")
            continue
        try:
            batches.append((decode_embedded(ev.value), ev))
        except CodecError as exc:
            await (await p.send_dead_letter(ev.value, str(exc), "track", ev))
            p.runtime.bump("track.dead_lettered")
    return batches


def _learn(
    tracker: Tracker, batches: list[tuple[EmbeddedBatch, Any]]
) -> list[tuple[TrackOutput | Exception, Any]]:
    """Run the engines (in the engine thread); a failing batch becomes an error entry."""
    outs: list[tuple[TrackOutput | Exception, Any]] = []
    for batch, ev in batches:
        try:
            outs.append((tracker.learn(batch, ev.message.partition), ev))
        except Exception as exc:
            log.exception("track: learning a batch of %d docs failed", len(batch))
            outs.append((exc, ev))
    return outs


def _start_webhook(p: Pipeline, url: str) -> None:
    """The background webhook sender: an app task, its counters in ``/stats``."""
    sender = WebhookSender(WebhookSettings(url), bump=p.runtime.bump)
    p.webhook = sender

    @p.app.task
    async def alert_webhook() -> None:
        await sender.run()


async def _publish(p: Pipeline, outputs: list[tuple[TrackOutput | Exception, Any]]) -> None:
    """Send assignments, topic snapshots and alerts; wait until Kafka holds them."""
    rt = p.runtime
    sent = []
    alerts: list[dict[str, Any]] = []
    for out, ev in outputs:
        if isinstance(out, Exception):
            sent.append(await p.send_dead_letter(ev.value, f"track: {out!r}", "track", ev))
            rt.bump("track.dead_lettered")
            continue
        key = out.stream.encode("utf-8")
        for msg in encode_row_messages(out.assignments):
            sent.append(await p.topics.assignments.send(key=key, value=msg))
        # Topic rows carry a 384-float centroid each: fewer per message.
        for msg in encode_row_messages(out.topics, limit=32):
            sent.append(await p.topics.topic_updates.send(key=key, value=msg))
        # Profile rows carry a 384-float interest vector each, as topic rows do.
        for msg in encode_row_messages(out.interests, limit=32):
            sent.append(await p.topics.user_interests.send(key=key, value=msg))
        # One message per alert: the alert schema's object, for any consumer.
        for alert in out.alerts:
            sent.append(await p.topics.alerts.send(key=key, value=encode_alert(alert)))
        alerts.extend(out.alerts)
        for event, reason in out.rejected:
            # The event as the embed stage carried it (the producer's bytes stay upstream).
            raw = json.dumps({**event, "stream": out.stream}, ensure_ascii=False).encode()
            sent.append(await p.send_dead_letter(raw, f"track: {reason}", "track", ev))
        rt.bump("track.event_time_rejected", len(out.rejected))
        rt.bump("track.too_late", out.too_late)
        rt.bump("track.alert_errors", out.alert_errors)
        rt.bump("track.assigned", sum(1 for r in out.assignments if r["version"] == 0))
        rt.bump("track.late_assigned", out.late)
        rt.bump("track.late_unknown", out.late_unknown)
        rt.bump("track.topic_updates", len(out.topics))
        rt.bump("track.interest_updates", len(out.interests))
        rt.bump("track.interest_errors", out.interest_errors)
        rt.topics[out.stream] = out.summaries
        rt.engine_stats[out.stream] = out.stats
        rt.last_ts[out.stream] = out.last_ts
    if sent:
        await asyncio.gather(*sent)
    if alerts:
        # Kafka holds them now: show them, and hand them to the webhook.
        rt.bump("track.alerts", len(alerts))
        rt.add_alerts(alerts)
        sender = p.webhook
        for alert in alerts:
            log.info(
                "alert %s: %s topic %s (%s)",
                alert["alert_id"],
                alert["kind"],
                alert["topic_id"],
                alert["label"],
            )
            if sender is not None:
                sender.submit(alert)


def _publish_summaries(p: Pipeline, tracker: Tracker) -> None:
    for stream, eng in tracker.engines.items():
        p.runtime.topics[stream] = [
            topic_summary(v, stream, tracker.story_of(stream, v.topic_id))
            for v in eng.topics()[:TOP_TOPICS]
        ]
        p.runtime.engine_stats[stream] = {k: float(v) for k, v in eng.stats().items()}
        p.runtime.last_ts[stream] = float(eng.last_ts)
