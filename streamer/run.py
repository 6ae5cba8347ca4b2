"""``topictrack run``: the whole pipeline in this process, consuming until Ctrl-C.

Starts the embedded broker (unless ``--broker kafka://...``), opens and
migrates the store, runs embed → track → sink with the HTTP API, and shows
the live topic table. Send events with ``topictrack produce FILE`` from
another terminal (it finds this run's broker through ``--data-dir``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from streamer.config import ALL_TOPICS, BrokerSpec, Settings
from streamer.options import add_pipeline_options, settings_from_args

log = logging.getLogger(__name__)


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.WARNING),
        format="[%(asctime)s] [%(levelname)s] %(name)s: %(message)s",
    )


def check_port_free(host: str, port: int) -> None:
    """Fail early, with a hint, if the HTTP API port is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise SystemExit(
                f"HTTP API port {host}:{port} is in use ({exc.strerror}); "
                "is another topictrack worker running? pass --web-port"
            ) from None


@contextlib.contextmanager
def pipeline_context(settings: Settings, tracker=None) -> Iterator:
    """Store, broker and pipeline for ``settings``; everything is stopped on exit.

    The store opens first, so a chdb directory held by another process fails
    fast, before anything is started.
    """
    from streamer.app import build_pipeline
    from streamer.broker import EmbeddedBroker
    from streamer.kafka_util import ensure_topics, quiet_kafka_logging
    from streamer.store import open_store

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
                ephemeral_broker=True,
            )
        ensure_topics(settings.broker.bootstrap_servers, ALL_TOPICS, settings.partitions)
        yield build_pipeline(settings, store, tracker)


async def dashboard_loop(p, every: float = 2.0, stream=sys.stderr) -> None:
    """Redraw the live topic table forever (the ``run`` controller)."""
    from streamer.dashboard import LiveTable

    table = LiveTable(stream)
    while True:
        await draw_table(p, table)
        await asyncio.sleep(every)


async def draw_table(p, table, header: str | None = None, force: bool = False) -> None:
    """One redraw: topics from the runtime, recent counts from the store."""
    from streamer import dashboard, queries

    rt = p.runtime
    topics = [t for items in rt.topics.values() for t in items]
    recent: dict[int, int] = {}
    if p.store is not None and rt.last_ts:
        stream, last = max(rt.last_ts.items(), key=lambda kv: kv[1])
        loop = asyncio.get_running_loop()
        with contextlib.suppress(Exception):
            recent = await loop.run_in_executor(None, queries.recent_counts, p.store, stream, last)
    c = rt.counters
    if header is None:
        header = (
            f"events in {c['embed.received']}  embedded {c['embed.embedded']}  "
            f"stored {c['sink.events']}  dead-lettered {c['embed.dead_lettered']}  "
            f"topics {sum(len(v) for v in rt.topics.values())}  alerts {c['track.alerts']}  "
            f"up {time.time() - rt.started_at:,.0f}s"
        )
    lines = dashboard.render(topics, recent, header=header)
    if "track" in p.settings.agents:
        lines += dashboard.render_alerts(list(rt.alerts))
    table.draw(lines, force=force)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "run",
        help="run the pipeline (embedded broker + worker + store) until Ctrl-C",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_pipeline_options(p)
    p.add_argument("--no-table", action="store_true", help="do not draw the live topic table")
    return p


def run(args: argparse.Namespace) -> int:
    from streamer.worker import run_pipeline

    setup_logging(args.log_level)
    settings = settings_from_args(args)
    controller = None if args.no_table else (lambda p, stop: dashboard_loop(p))
    with pipeline_context(settings) as p:
        print(
            f"topictrack run: broker {p.settings.broker.bootstrap_servers}, "
            f"store {p.store.url if p.store else '-'}, API http://{settings.web_host}:"
            f"{settings.web_port}; send events with `topictrack produce FILE "
            f"--data-dir {settings.data_dir}`; Ctrl-C stops",
            file=sys.stderr,
        )
        return run_pipeline(p, controller)
