"""Everything a worker process needs around its pipeline: store, broker, topics.

:func:`pipeline_context` opens (and migrates) the store, starts the embedded
broker when asked, creates the Kafka topics and builds the pipeline; on exit
everything is stopped in reverse order. ``run``, ``demo`` and ``worker`` use it.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from streamer.config import ALL_TOPICS, BrokerSpec, Settings
from streamer.kafka.admin import ensure_topics, quiet_kafka_logging
from streamer.kafka.broker import EmbeddedBroker, check_port_free
from streamer.pipeline.app import build_pipeline
from streamer.pipeline.checkpoint import CheckpointStore, LocalCheckpoints, StoreCheckpoints
from streamer.pipeline.context import Pipeline
from streamer.pipeline.tracker import Tracker
from streamer.store import open_store

log = logging.getLogger(__name__)


@contextlib.contextmanager
def pipeline_context(settings: Settings, tracker: Tracker | None = None) -> Iterator[Pipeline]:
    """Store, broker and pipeline for ``settings``; everything is stopped on exit.

    The store opens first, so a chdb directory held by another process fails
    fast, before anything is started.
    """
    quiet_kafka_logging()
    check_port_free(settings.web_host, settings.web_port)
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        store = None
        if "sink" in settings.agents:
            store = open_store(settings.store, settings.data_dir)
            stack.callback(store.close)
            applied = store.migrate()
            if applied:
                log.info("migrated %s: %s", store.url, ", ".join(applied))
        if settings.broker.embedded:
            broker = EmbeddedBroker(log_path=settings.data_dir / "tansu.log")
            stack.enter_context(broker)
            settings = replace(
                settings,
                broker=BrokerSpec(False, (broker.bootstrap_servers,)),
                broker_epoch=uuid.uuid4().hex,
            )
        ensure_topics(settings.broker.bootstrap_servers, ALL_TOPICS, settings.partitions)
        checkpoints = None
        if "track" in settings.agents and settings.checkpoints:
            checkpoints = open_checkpoints(settings, stack)
        yield build_pipeline(settings, store, tracker, checkpoints)


def open_checkpoints(settings: Settings, stack: contextlib.ExitStack) -> CheckpointStore:
    """The ``--checkpoints`` store: a folder, or a ClickHouse server every track worker reaches."""
    value = settings.checkpoints
    if not value.startswith("clickhouse://"):
        return LocalCheckpoints(Path(value))
    store = open_store(value, settings.data_dir)
    stack.callback(store.close)
    store.migrate()
    return StoreCheckpoints(store, namespace=settings.app_id)
