"""The Faust app: topics, the agents a worker runs, and its HTTP API.

``build_pipeline(settings, store)`` returns a :class:`Pipeline` whose ``app``
runs any subset of ``embed``, ``track`` and ``sink`` — all in one process
(the embedded default) or one stage per worker (production) — with the same
code.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faust

from streamer.codec import dead_letter_headers
from streamer.config import (
    TOPIC_ALERTS,
    TOPIC_ASSIGNMENTS,
    TOPIC_DEAD_LETTER,
    TOPIC_EMBEDDED,
    TOPIC_EVENTS,
    TOPIC_TOPIC_UPDATES,
    Settings,
)
from streamer.runtime import Runtime

log = logging.getLogger(__name__)

#: Kafka consumer session timeout (s). tansu holds a JoinGroup for half of it
#: (DESIGN facts), so Faust's 60 s default would stall every start for 30 s.
SESSION_TIMEOUT = 6.0
#: Heartbeats must come well inside the session timeout.
HEARTBEAT_INTERVAL = 1.5
#: Largest producer request (bytes); messages are cut well below it.
MAX_REQUEST_SIZE = 4 * 1024 * 1024


def make_app(settings: Settings) -> faust.App:
    """A Faust app configured for our topics (raw bytes, 1 replica, short sessions)."""
    brokers = [f"kafka://{h}" for h in settings.broker.bootstrap]
    if not brokers:
        raise ValueError("no broker address: start the embedded broker first")
    return faust.App(
        settings.app_id,
        broker=brokers,
        store="memory://",
        datadir=str(Path(settings.data_dir) / "faust"),
        autodiscover=False,
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        broker_session_timeout=SESSION_TIMEOUT,
        broker_heartbeat_interval=HEARTBEAT_INTERVAL,
        consumer_auto_offset_reset="earliest",
        # Do not wait for unacked messages on rebalance/stop: the stages hold
        # offsets until their work is durable (track: until a checkpoint), so
        # waiting would stall; uncommitted offsets are simply redelivered.
        stream_wait_empty=False,
        producer_max_request_size=MAX_REQUEST_SIZE,
        web_enabled=True,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_port=settings.web_port,
        key_serializer="raw",
        value_serializer="raw",
    )


@dataclass
class Topics:
    """The six Kafka topics, all raw bytes (our codecs live in :mod:`streamer.codec`)."""

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

    def sink_channel(self) -> faust.TopicT:
        """One subscription over every topic the sink stores."""
        return self.app.topic(
            TOPIC_ASSIGNMENTS,
            TOPIC_TOPIC_UPDATES,
            TOPIC_ALERTS,
            TOPIC_DEAD_LETTER,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
        )


@dataclass
class Pipeline:
    """A configured app with its topics, shared runtime state and (for sink) store."""

    settings: Settings
    app: faust.App
    topics: Topics
    runtime: Runtime
    store: Any = None
    tracker: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return Path(self.settings.data_dir)

    def agent(self, channel: Any, name: str):
        """Register ``fun(stream)`` as a Faust agent that ends quietly on shutdown.

        Faust stops agents by cancelling them and logs every cancelled actor as
        "Crashed" at ERROR level; when the app itself is stopping that is the
        normal end, so the body returns instead (its ``finally`` still runs).
        """

        def decorate(fun):
            @functools.wraps(fun)
            async def body(stream) -> None:
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
        self.extra["fatal"] = reason
        stop = self.extra.get("stop")
        if stop is not None:
            stop()

    async def send_dead_letter(self, raw: bytes | None, reason: str, stage: str, event: Any):
        """Send the original bytes to ``dead-letter``; return the delivery future."""
        m = event.message
        return await self.topics.dead_letter.send(
            key=event.key if isinstance(event.key, bytes) else None,
            value=raw if raw is not None else b"",
            headers=dead_letter_headers(reason, stage, m.topic, m.partition, m.offset),
        )


def build_pipeline(settings: Settings, store: Any = None, tracker: Any = None) -> Pipeline:
    """Create the app and register the agents in ``settings.agents`` and the HTTP API.

    ``tracker`` replaces the default :class:`~streamer.tracking.Tracker` (tests
    pass one with a stand-in engine).
    """
    from streamer import api
    from streamer.agents import embed, sink, track

    app = make_app(settings)
    p = Pipeline(
        settings=settings,
        app=app,
        topics=Topics(app, settings.partitions),
        runtime=Runtime(agents=settings.agents),
        store=store,
    )
    if "sink" in settings.agents and store is None:
        raise ValueError("the sink agent needs a store")
    if "embed" in settings.agents:
        embed.register(p)
    if "track" in settings.agents:
        track.register(p, tracker)
    elif settings.alert_webhook:
        log.warning("--alert-webhook is ignored: alerts are raised by the track agent")
    if "sink" in settings.agents:
        sink.register(p)
    api.register(p)
    return p
