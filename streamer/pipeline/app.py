"""The composition root: the Faust app, the agents a worker runs, and its HTTP API.

``build_pipeline(settings, store)`` returns a :class:`~streamer.pipeline.context.Pipeline`
whose ``app`` runs any subset of ``embed``, ``track`` and ``sink`` — all in one
process (the embedded default) or one stage per worker (production) — with the
same code, and serves the HTTP API of :mod:`streamer.api` on its web port.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import faust
import numpy as np
from faust.web.drivers.aiohttp import Web as FaustAiohttpWeb

from streamer.api import ApiContext, Security, Unavailable, add_routes
from streamer.config import Settings
from streamer.pipeline.agents import embed, sink, track
from streamer.pipeline.checkpoint import CheckpointStore
from streamer.pipeline.context import Pipeline, Topics
from streamer.pipeline.metrics import PipelineCollector, consumer_lag
from streamer.pipeline.runtime import Runtime
from streamer.pipeline.tracker import Tracker
from streamer.store import Store

log = logging.getLogger(__name__)

#: Kafka consumer session timeout (s). tansu holds a JoinGroup for half of it
#: (docs/components.md, "tansu"), so Faust's 60 s default would
#: stall every start for 30 s.
SESSION_TIMEOUT = 6.0
#: Heartbeats must come well inside the session timeout.
HEARTBEAT_INTERVAL = 1.5
#: Largest producer request (bytes); messages are cut well below it.
MAX_REQUEST_SIZE = 4 * 1024 * 1024


class DashboardWeb(FaustAiohttpWeb):
    """Faust's aiohttp server without Faust's own pages.

    Faust mounts an index at ``/`` (and ``/router``, ``/table``); a worker's
    ``/`` is the dashboard and its API is ours, so none of Faust's blueprints
    are served.
    """

    default_blueprints = ()
    production_blueprints = ()
    debug_blueprints = ()
    optional_blueprints = ()


class PipelineApp(faust.App):
    """A Faust app whose web server is :class:`DashboardWeb`."""

    def _new_web(self) -> DashboardWeb:
        return DashboardWeb(self)


def make_app(settings: Settings) -> faust.App:
    """A Faust app configured for our topics (raw bytes, 1 replica, short sessions)."""
    brokers = [f"kafka://{h}" for h in settings.broker.bootstrap]
    if not brokers:
        raise ValueError("no broker address: start the embedded broker first")
    return PipelineApp(
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


class WorkerView:
    """What this worker shows its HTTP API (:class:`streamer.api.LiveWorker`)."""

    def __init__(self, p: Pipeline) -> None:
        self._p = p

    @property
    def ready(self) -> bool:
        return self._p.runtime.ready

    def stats(self) -> dict[str, Any]:
        body = self._p.runtime.stats()
        body["consumer_lag"] = [
            {"topic": t, "partition": part, "lag": n}
            for (t, part), n in sorted(consumer_lag(self._p).items())
        ]
        if self._p.webhook is not None:
            body["webhook"] = self._p.webhook.stats()
        return body

    def topic_summaries(self) -> dict[str, list[dict[str, Any]]]:
        return self._p.runtime.topics

    def recent_alerts(self) -> list[dict[str, Any]]:
        return list(self._p.runtime.alerts)

    def alert_log(self) -> tuple[int, int, list[dict[str, Any]]]:
        rt = self._p.runtime
        return int(rt.started_at), rt.alerts_total, list(rt.alerts)

    def _engine(self, stream: str) -> Any:
        tracker = self._p.tracker
        if tracker is None or self._p.engine_pool is None:
            raise Unavailable("this worker runs no track stage: no live engine")
        eng = tracker.engines.get(stream)
        if eng is None:
            raise Unavailable(f"no live engine for stream {stream!r} yet: no event seen")
        return eng

    async def assign(self, stream: str, texts: list[str], k: int) -> list[dict[str, Any]]:
        eng = self._engine(stream)
        if self._p.encode is None:
            raise Unavailable("this worker runs no embed stage: no model to embed texts with")
        vectors = await self._p.encode(texts)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._p.engine_pool, _predict, eng, texts, np.asarray(vectors), k
        )

    async def hierarchy(self, stream: str) -> dict[str, Any]:
        eng = self._engine(stream)
        if not hasattr(eng, "hierarchy"):
            raise Unavailable(f"the {self._p.settings.engine} engine builds no topic tree")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._p.engine_pool, eng.hierarchy)

    async def ingest(self, events: list[tuple[str, bytes]]) -> int:
        topic = self._p.topics.events
        sent = [await topic.send(key=s.encode("utf-8"), value=raw) for s, raw in events]
        # Acknowledged once Kafka holds every one of them.
        await asyncio.gather(*sent)
        self._p.runtime.bump("api.ingested", len(events))
        return len(events)


def _predict(eng: Any, texts: list[str], vectors: np.ndarray, k: int) -> list[dict[str, Any]]:
    """Top-k topics of each text from ``predict_many`` (in the engine thread)."""
    res = eng.predict_many(vectors)
    ids, probs = np.asarray(res.topk_ids), np.asarray(res.topk_probs)
    out = []
    for i, text in enumerate(texts):
        topics = []
        for tid, prob in zip(ids[i][:k].tolist(), probs[i][:k].tolist(), strict=True):
            if tid < 0:
                continue
            view = eng.topic(int(tid))
            topics.append(
                {
                    "topic_id": int(tid),
                    "probability": float(prob),
                    "label": view.label,
                    "keywords": list(view.keywords)[:8],
                    "examples": list(view.examples)[:2],
                }
            )
        out.append(
            {
                "text": text[:200],
                "topic_id": int(res.topic_ids[i]),
                "similarity": float(res.similarity[i]),
                "topics": topics,
            }
        )
    return out


def build_pipeline(
    settings: Settings,
    store: Store | None = None,
    tracker: Tracker | None = None,
    checkpoints: CheckpointStore | None = None,
) -> Pipeline:
    """Create the app and register the agents in ``settings.agents`` and the HTTP API.

    ``tracker`` replaces the default :class:`~streamer.pipeline.tracker.Tracker`
    (tests pass one with a stand-in engine); ``checkpoints`` is where ``track``
    keeps its state (default: a folder under ``--data-dir``).
    """
    if "sink" in settings.agents and store is None:
        raise ValueError("the sink agent needs a store")
    app = make_app(settings)
    p = Pipeline(
        settings=settings,
        app=app,
        topics=Topics(app, settings.partitions),
        runtime=Runtime(agents=settings.agents),
        store=store,
    )
    if "embed" in settings.agents:
        embed.register(p)
    if "track" in settings.agents:
        track.register(p, tracker, checkpoints)
    elif settings.alert_webhook:
        log.warning("--alert-webhook is ignored: alerts are raised by the track agent")
    if "sink" in settings.agents:
        sink.register(p)
    view = WorkerView(p)
    p.runtime.registry.register(PipelineCollector(p, view))
    add_routes(
        app.web.web_app,
        ApiContext(
            agents=settings.agents,
            store=store,
            live=view,
            security=Security(settings.api_token, settings.cors_origin),
            registry=p.runtime.registry,
        ),
    )
    return p
