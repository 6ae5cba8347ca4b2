"""``embed``: validate raw events, embed valid ones in micro-batches, forward per stream.

Invalid input goes to ``dead-letter`` (original bytes, reason in headers) and
is counted; the model runs in its own thread so the event loop stays free for
Kafka heartbeats and the HTTP API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from streamer.config import ConfigError
from streamer.pipeline.agents.acks import Held
from streamer.pipeline.codec import EmbeddedBatch, encode_embedded, split_embedded
from streamer.pipeline.context import Pipeline
from streamer.validation import Event, InvalidEvent, validate_bytes
from workers.embedding import Embedder, is_cuda, resolve_device, resolve_runtime

log = logging.getLogger(__name__)


def split_valid(
    items: list[tuple[bytes, Any]],
) -> tuple[dict[str, list[tuple[Event, Any]]], list[tuple[bytes, str, Any]]]:
    """Validate raw values; group valid events by stream (arrival order kept).

    ``items`` pairs each raw value with an opaque tag (the Faust event); returns
    ``({stream: [(event, tag)]}, [(raw, reason, tag)])``.
    """
    good: dict[str, list[tuple[Event, Any]]] = {}
    bad: list[tuple[bytes, str, Any]] = []
    for raw, tag in items:
        try:
            ev = validate_bytes(raw if raw is not None else b"")
        except InvalidEvent as exc:
            bad.append((raw or b"", str(exc), tag))
            continue
        good.setdefault(ev.stream, []).append((ev, tag))
    return good, bad


def wire_event(ev: Event) -> dict[str, Any]:
    """The event fields carried on ``embedded`` (``meta`` is not stored, so not carried)."""
    return {
        "id": ev.id,
        "ts": ev.ts,
        "text": ev.text,
        "user_id": ev.user_id,
        "lang": ev.lang,
        "source": ev.source,
    }


#: Micro-batches handed on but not yet delivered to Kafka. The stage's body
#: returns as soon as a batch's model work is queued, so Faust buffers the
#: next batch meanwhile (``take()`` buffers nothing while its body runs), and
#: the model thread goes from one batch to the next without waiting for the
#: event loop; the last batch's outputs are sent while the next is embedded.
#: Two keep the model busy; more only hold more offsets unacked.
IN_FLIGHT = 2


@dataclass
class Job:
    """One micro-batch between its hand-off to the model and its delivery to Kafka."""

    held: Held
    good: dict[str, list[tuple[Event, Any]]]
    flat: list[tuple[str, Event, Any]]
    sent: list[Any]
    vectors: asyncio.Future | None
    #: When the batch was taken (monotonic): the stage's batch latency is from here.
    started: float = 0.0


def register(p: Pipeline) -> None:
    """Add the ``embed`` agent to the pipeline's app."""
    s = p.settings
    # "auto" resolved once: the micro-batch size depends on it too.
    device = resolve_device(s.device)
    try:
        runtime = resolve_runtime(s.runtime, device)
    except ValueError as exc:
        raise ConfigError(f"--runtime: {exc}") from None
    model_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed-model")
    # Tokenising is the fast tokenizer's (Rust, GIL released) work on its own
    # thread: the next micro-batch is tokenised while the model runs this one.
    token_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed-tokens")
    state: dict[str, Embedder | None] = {"embedder": None}
    loading = asyncio.Lock()

    def load_embedder() -> Embedder:
        # transformers is imported here, in the model thread, not at worker import:
        # it takes seconds, and only embed workers need it.
        from transformers.utils import logging as hf_logging

        # No weight-loading progress bars in the worker's output.
        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()

        emb = Embedder(
            model=s.model,
            device=device,
            batch_size=s.encode_batch,
            runtime=runtime,
            threads=s.embed_threads,
            token_budget=s.token_budget,
        )
        log.info("embedder %s: %s, %s", emb.model_name, emb.describe(), emb.policy.describe())
        return emb

    async def embedder() -> Embedder:
        async with loading:  # the warm-up task and the first batch must not both load
            if state["embedder"] is None:
                loop = asyncio.get_running_loop()
                emb = await loop.run_in_executor(model_pool, load_embedder)
                state["embedder"] = emb
                name = s.model or "all-MiniLM-L6-v2 (packaged)"
                p.runtime.model = f"{name}, {emb.describe()}"
        return state["embedder"]

    p.runtime.starting.add("model")

    async def encode(texts: list[str]) -> Any:
        # The API's assign: same model, same thread as the stage's batches.
        model = await embedder()
        return await asyncio.get_running_loop().run_in_executor(model_pool, model.encode, texts)

    p.encode = encode

    @p.app.task
    async def warm_up() -> None:
        # Load the model at start, not on the first event: the first batch then
        # measures the pipeline, and a bad --model fails loudly right away.
        try:
            await embedder()
        except Exception as exc:
            log.exception("cannot load the embedding model %r", s.model or "(default)")
            p.fail(f"cannot load the embedding model {s.model or '(default)'}: {exc!r}")
        finally:
            p.runtime.starting.discard("model")

    # Events per micro-batch: on 2 CPU cores ~0.3 s of int8 model time, short
    # enough for live latency; a GPU takes far more per forward pass.
    batch_size = s.embed_batch or (1024 if is_cuda(device) else 64)

    def submit(model: Embedder, texts: list[str]) -> asyncio.Future:
        tokens = token_pool.submit(model.prepare, texts)
        return asyncio.wrap_future(model_pool.submit(lambda: model.run(tokens.result())))

    async def embed(stream: Any) -> None:
        queue: asyncio.Queue[Job] = asyncio.Queue(maxsize=IN_FLIGHT)
        delivering = asyncio.ensure_future(deliver(p, queue))
        try:
            async for events in stream.take_events(batch_size, within=s.embed_within):
                held = Held(events)
                try:
                    job = await _start(p, events, held, embedder, submit)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # Never die: the batch stays unacked and is redelivered on
                    # restart; the stage keeps going with the next batch.
                    log.exception("embed: batch of %d failed", len(events))
                    p.runtime.bump("embed.batch_errors")
                    continue
                await queue.put(job)  # waits while IN_FLIGHT batches are on their way
        finally:
            # Cancelled (shutdown, rebalance): batches not yet delivered stay
            # unacked, so Kafka redelivers them (at least once).
            delivering.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await delivering

    p.agent(p.topics.events, name="embed")(embed)


async def deliver(p: Pipeline, queue: asyncio.Queue[Job]) -> None:
    """Send each job's outputs in hand-off order; ack its input once Kafka holds them."""
    while True:
        job = await queue.get()
        try:
            await _finish(p, job)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The batch stays unacked and is redelivered on restart.
            log.exception("embed: delivering a batch of %d failed", len(job.held))
            p.runtime.bump("embed.batch_errors")
            continue
        p.runtime.batch_seconds.labels("embed").observe(time.monotonic() - job.started)
        job.held.release()


async def _start(
    p: Pipeline,
    events: list[Any],
    held: Held,
    embedder: Callable[[], Awaitable[Embedder]],
    submit: Callable[[Embedder, list[str]], asyncio.Future],
) -> Job:
    """Validate a micro-batch, dead-letter what is invalid, hand the rest to the model."""
    rt = p.runtime
    rt.bump("embed.received", len(events))
    good, bad = split_valid([(ev.value, ev) for ev in events])
    sent = []
    for raw, reason, ev in bad:
        sent.append(await p.send_dead_letter(raw, reason, "validate", ev))
    rt.bump("embed.dead_lettered", len(bad))
    flat = [(stream, ev, tag) for stream, items in good.items() for ev, tag in items]
    vectors = None
    if flat:
        model = await embedder()
        vectors = submit(model, [ev.text for _, ev, _ in flat])
    return Job(
        held=held, good=good, flat=flat, sent=sent, vectors=vectors, started=time.monotonic()
    )


async def _finish(p: Pipeline, job: Job) -> None:
    """Forward a job's vectors per stream (or dead-letter it); wait until Kafka holds all."""
    rt = p.runtime
    sent = list(job.sent)
    if job.vectors is not None:
        try:
            vectors = await job.vectors
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A batch the model cannot encode: dead-letter it, keep the stage alive.
            log.exception("embed: encoding %d texts failed", len(job.flat))
            for _, _, tag in job.flat:
                sent.append(await p.send_dead_letter(tag.value, f"embed: {exc!r}", "embed", tag))
            rt.bump("embed.dead_lettered", len(job.flat))
        else:
            start = 0
            for stream, items in job.good.items():
                n = len(items)
                batch = EmbeddedBatch(
                    stream=stream,
                    events=[wire_event(ev) for ev, _ in items],
                    vectors=vectors[start : start + n],
                )
                start += n
                for part in split_embedded(batch):
                    sent.append(
                        await p.topics.embedded.send(
                            key=stream.encode("utf-8"), value=encode_embedded(part)
                        )
                    )
            rt.bump("embed.embedded", len(job.flat))
    # At least once: the input is acked only once Kafka holds the output.
    if sent:
        await asyncio.gather(*sent)
