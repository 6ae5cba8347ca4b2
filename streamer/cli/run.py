"""``topictrack run``: the whole pipeline on this machine, consuming until Ctrl-C.

Starts the embedded broker (unless ``--broker kafka://...``), then a worker
process that opens and migrates the store, runs embed → track → sink with the
HTTP API, and shows the live topic table. The worker is supervised: if it
dies it is restarted while the broker and the events it holds live on. Send
events with ``topictrack produce FILE`` from another terminal (it finds this
run's broker through ``--data-dir``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from streamer.cli.live_table import LiveTable, alerts_table, topics_table, view
from streamer.cli.options import add_pipeline_options, settings_from_args, setup_logging
from streamer.config import Settings
from streamer.discovery import write_runtime_file
from streamer.kafka.broker import EmbeddedBroker, check_port_free
from streamer.pipeline.supervisor import exit_code, exit_when_orphaned, supervise
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
    # Set by the supervising `run` on the worker it starts: not for users.
    p.add_argument("--supervised", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--broker-epoch", default="", help=argparse.SUPPRESS)
    return p


def run(args: argparse.Namespace) -> int:
    setup_logging(args.log_level)
    settings = settings_from_args(args)  # bad options fail here, before anything starts
    if args.supervised:
        return run_worker(args, settings)
    return run_supervisor(args, settings)


def run_supervisor(args: argparse.Namespace, settings: Settings) -> int:
    """Start the broker (if embedded) here, and the worker as a supervised child process."""
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    check_port_free(settings.web_host, settings.web_port)  # not five failed restarts later
    with contextlib.ExitStack() as stack:
        epoch = ""
        broker_url = args.broker
        if settings.broker.embedded:
            broker = stack.enter_context(EmbeddedBroker(log_path=data_dir / "tansu.log"))
            broker_url, epoch = broker.url, uuid.uuid4().hex
        record = write_runtime_file(
            data_dir,
            {
                "app_id": "topictrack-run",
                "agents": [],
                "broker": broker_url.removeprefix("kafka://"),
                "started_at": time.time(),
            },
        )
        stack.callback(record.unlink, missing_ok=True)
        print(
            f"topictrack run: broker {broker_url.removeprefix('kafka://')}, store "
            f"{settings.store_spec.display() if 'sink' in settings.agents else '-'}, dashboard "
            f"http://{settings.web_host}:{settings.web_port}/; send events with `topictrack "
            f"produce FILE --data-dir {settings.data_dir}`; Ctrl-C stops",
            file=sys.stderr,
        )
        command = [
            sys.executable,
            "-m",
            "streamer.cli",
            *args.argv,
            # Later values win: the child uses this broker, this epoch and port.
            "--broker",
            broker_url,
            "--broker-epoch",
            epoch,
            "--web-port",
            str(settings.web_port),
            "--supervised",
        ]
        return exit_code(supervise(command))


def run_worker(args: argparse.Namespace, settings: Settings) -> int:
    """The supervised worker: every stage, the HTTP API and the live table."""
    from streamer.pipeline.launch import pipeline_context
    from streamer.pipeline.worker import run_pipeline

    settings = replace(settings, broker_epoch=args.broker_epoch)
    exit_when_orphaned(os.getppid())

    async def controller(p: Pipeline, stop: object) -> None:
        await live_table_loop(p)

    with pipeline_context(settings) as p:
        return run_pipeline(p, None if args.no_table else controller)
