"""What every stage of one worker shares: settings, the Faust app, its topics, state.

:class:`Pipeline` is the typed context the composition root
(:func:`streamer.pipeline.app.build_pipeline`) hands to each agent's
``register``: the store (``sink``), the tracker (``track``), the webhook
sender, and how to stop the worker or fail it with a reason.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faust

from streamer.config import (
    TOPIC_ALERTS,
    TOPIC_ASSIGNMENTS,
    TOPIC_DEAD_LETTER,
    TOPIC_EMBEDDED,
    TOPIC_EVENTS,
    TOPIC_TOPIC_UPDATES,
    TOPIC_USER_INTERESTS,
    Settings,
)
from streamer.pipeline.codec import dead_letter_headers
from streamer.pipeline.runtime import Runtime
from streamer.pipeline.tracker import Tracker
from streamer.pipeline.webhook import WebhookSender
from streamer.store import Store


@dataclass
class Topics:
    """The seven Kafka topics, all raw bytes (our codecs live in :mod:`streamer.pipeline.codec`)."""

    app: faust.App
    partitions: int

    def __post_init__(self) -> None:
        def topic(name: str) -> faust.TopicT:
            return self.app.topic(
                name,
                key_type=bytes,
                value_type=bytes,
                key_serializer="raw",
                value_serializer="raw",
                partitions=self.partitions,
                replicas=1,
            )

        self.events = topic(TOPIC_EVENTS)
        self.embedded = topic(TOPIC_EMBEDDED)
        self.assignments = topic(TOPIC_ASSIGNMENTS)
        self.topic_updates = topic(TOPIC_TOPIC_UPDATES)
        self.alerts = topic(TOPIC_ALERTS)
        self.dead_letter = topic(TOPIC_DEAD_LETTER)
        self.user_interests = topic(TOPIC_USER_INTERESTS)

    def sink_channel(self) -> faust.TopicT:
        """One subscription over every topic the sink stores."""
        return self.app.topic(
            TOPIC_ASSIGNMENTS,
            TOPIC_TOPIC_UPDATES,
            TOPIC_ALERTS,
            TOPIC_DEAD_LETTER,
            TOPIC_USER_INTERESTS,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
        )


#: Most bytes of a bad message forwarded to ``dead-letter``: well under the
#: producer's request limit (``MAX_REQUEST_SIZE`` in app.py, 4 MiB), so a 10 MB
#: message is recorded, cut, instead of failing its batch for ever.
MAX_DEAD_LETTER_BYTES = 256 * 1024

#: An agent body: consumes a Faust stream until it ends or is cancelled.
AgentBody = Callable[[Any], Awaitable[None]]


@dataclass
class Pipeline:
    """A configured app with its topics and the state its stages and API share."""

    settings: Settings
    app: faust.App
    topics: Topics
    runtime: Runtime
    #: The ClickHouse store (workers running ``sink``; None otherwise).
    store: Store | None = None
    #: Engines and alert detectors per stream (workers running ``track``).
    tracker: Tracker | None = None
    #: The ``--alert-webhook`` sender (``track`` workers with a webhook).
    webhook: WebhookSender | None = None
    #: Embeds texts with this worker's model, off the loop (``embed`` workers).
    encode: Callable[[list[str]], Awaitable[Any]] | None = None
    #: The one thread that touches the engines (``track`` workers): the API's
    #: assign and hierarchy run there too, never beside a batch.
    engine_pool: ThreadPoolExecutor | None = None
    #: Stops the worker gracefully; set by :func:`streamer.pipeline.worker.run_pipeline`.
    stop: Callable[[], None] | None = None
    #: Why the worker stopped itself with an error (a bad ``--model`` at start...).
    fatal: str | None = None
    #: The run's controller (the demo's driver) raised: the exit code says so.
    controller_failed: bool = False

    @property
    def data_dir(self) -> Path:
        return Path(self.settings.data_dir)

    def agent(self, channel: Any, name: str) -> Callable[[AgentBody], Any]:
        """Register ``fun(stream)`` as a Faust agent that ends quietly on shutdown.

        Faust stops agents by cancelling them and logs every cancelled actor as
        "Crashed" at ERROR level; when the app itself is stopping that is the
        normal end, so the body returns instead (its ``finally`` still runs).
        """

        def decorate(fun: AgentBody) -> Any:
            @functools.wraps(fun)
            async def body(stream: Any) -> None:
                try:
                    await fun(stream)
                except asyncio.CancelledError:
                    if self.app.should_stop:
                        return
                    raise

            return self.app.agent(channel, name=name)(body)

        return decorate

    def fail(self, reason: str) -> None:
        """Stop the worker with an error (for start-up failures such as a bad --model)."""
        self.fatal = reason
        if self.stop is not None:
            self.stop()

    async def send_dead_letter(
        self, raw: bytes | None, reason: str, stage: str, event: Any | None
    ) -> asyncio.Future:
        """Send the original bytes to ``dead-letter``; return the delivery future.

        ``event`` is the Faust event the bytes came with (its position goes into
        the headers); None for what no message brought now (a held event that
        timed out), whose position is given as ``embedded``/-1/-1.
        """
        raw = raw if raw is not None else b""
        if len(raw) > MAX_DEAD_LETTER_BYTES:
            # Larger than a message this worker may send: keep the start, say so.
            reason += f" (first {MAX_DEAD_LETTER_BYTES:,} of {len(raw):,} bytes kept)"
            raw = raw[:MAX_DEAD_LETTER_BYTES]
        if event is None:
            key, where = None, (TOPIC_EMBEDDED, -1, -1)
        else:
            m = event.message
            key = event.key if isinstance(event.key, bytes) else None
            where = (m.topic, m.partition, m.offset)
        self.runtime.dead_lettered(stage, reason)
        return await self.topics.dead_letter.send(
            key=key,
            value=raw,
            headers=dead_letter_headers(reason, stage, *where),
        )
