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
import sys
import time
from typing import TYPE_CHECKING

from streamer.cli.live_table import LiveTable, alerts_table, topics_table, view
from streamer.cli.options import add_pipeline_options, settings_from_args, setup_logging
from streamer.store import topic_queries

if TYPE_CHECKING:  # Faust loads with the pipeline, in run(), not at `topictrack --help`
    from streamer.pipeline.context import Pipeline


async def live_table_loop(p: Pipeline, every: float = 2.0) -> None:
    """Redraw the live topic table until the worker stops (the ``run`` controller)."""
    table = LiveTable(sys.stderr)
    try:
        while True:
            await draw_table(p, table)
            await asyncio.sleep(every)
    finally:
        table.close()


async def draw_table(
    p: Pipeline, table: LiveTable, header: str | None = None, force: bool = False
) -> None:
    """One redraw: topics from the runtime, recent counts from the store."""
    rt = p.runtime
    topics = [t for items in rt.topics.values() for t in items]
    recent: dict[int, int] = {}
    if p.store is not None and rt.last_ts:
        stream, last = max(rt.last_ts.items(), key=lambda kv: kv[1])
        loop = asyncio.get_running_loop()
        with contextlib.suppress(Exception):  # a busy store must not stop the table
            recent = await loop.run_in_executor(
                None, topic_queries.recent_counts, p.store, stream, last
            )
    c = rt.counters
    if header is None:
        header = (
            f"events in {c['embed.received']}  embedded {c['embed.embedded']}  "
            f"stored {c['sink.events']}  dead-lettered {c['embed.dead_lettered']}  "
            f"topics {sum(len(v) for v in rt.topics.values())}  alerts {c['track.alerts']}  "
            f"up {time.time() - rt.started_at:,.0f}s"
        )
    parts = [topics_table(topics, recent)]
    if "track" in p.settings.agents:
        parts.append(alerts_table(list(rt.alerts)))
    table.draw(view(header, *parts), force=force)


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
    from streamer.pipeline.launch import pipeline_context
    from streamer.pipeline.worker import run_pipeline

    setup_logging(args.log_level)
    settings = settings_from_args(args)

    async def controller(p: Pipeline, stop: object) -> None:
        await live_table_loop(p)

    with pipeline_context(settings) as p:
        print(
            f"topictrack run: broker {p.settings.broker.bootstrap_servers}, "
            f"store {p.store.url if p.store else '-'}, dashboard http://{settings.web_host}:"
            f"{settings.web_port}/; send events with `topictrack produce FILE "
            f"--data-dir {settings.data_dir}`; Ctrl-C stops",
            file=sys.stderr,
        )
        return run_pipeline(p, None if args.no_table else controller)
