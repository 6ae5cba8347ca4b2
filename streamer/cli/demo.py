"""``topictrack demo``: the whole pipeline on a generated stream, start to finish.

Starts the embedded broker, the worker (embed → track → sink + HTTP API) and
the chdb store under ``<data-dir>/demo`` (emptied first), replays the built-in
sample stream (``streamer.sample_stream``: eight stories, one bursting) plus a
few malformed messages through Kafka, shows the live topic table with the
alerts raised so far, and ends with a summary (topics, alerts) once every
event is stored or dead-lettered. Nothing keeps running afterwards.

The dashboard is served at the printed URL while the demo runs; at the end
the demo prints the one command (``topictrack serve``) that opens the page
over the demo's data, so the demo itself always ends (in CI too).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from streamer import sample_stream
from streamer.cli.live_table import LiveTable, alerts_table, to_text, topics_table
from streamer.cli.options import add_pipeline_options, settings_from_args, setup_logging
from streamer.cli.run import draw_table
from streamer.config import DEFAULT_WEB_PORT
from streamer.discovery import running_workers
from streamer.kafka.producer import ProduceReport, produce_lines
from streamer.pipeline.params import alert_settings
from streamer.store import alert_queries, topic_queries

if TYPE_CHECKING:  # Faust loads with the pipeline, in run(), not at `topictrack --help`
    from streamer.pipeline.context import Pipeline

#: Seconds without any progress before the demo gives up.
STALL_TIMEOUT = 180.0
#: Seconds of quiet after the last event is stored, for the last topic snapshots.
SETTLE = 2.5


@dataclass
class DemoRun:
    """What the controller measured."""

    valid: int = 0
    malformed: int = 0
    first_send: float = 0.0
    done_at: float = 0.0
    produce_report: ProduceReport | None = None
    finished: bool = False
    errors: list[str] = field(default_factory=list)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "demo",
        help="run the whole pipeline on a generated sample stream and summarise",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--seed", type=int, default=7, help="sample stream seed (default: 7)")
    p.add_argument(
        "--scale", type=float, default=1.0, help="stream size factor (1.0 = ~3,100 events)"
    )
    p.add_argument("--rate", type=float, default=None, help="produce at most N events/s")
    p.add_argument("--no-malformed", action="store_true", help="do not send the malformed examples")
    add_pipeline_options(p, web_port=None)
    return p


def _prepare_dir(base: Path) -> Path:
    demo_dir = base / "demo"
    if running_workers(demo_dir):
        raise SystemExit(f"a demo is already running with {demo_dir}; wait for it or Ctrl-C it")
    shutil.rmtree(demo_dir, ignore_errors=True)
    demo_dir.mkdir(parents=True, exist_ok=True)
    return demo_dir


def run(args: argparse.Namespace) -> int:
    from streamer.pipeline.launch import pipeline_context
    from streamer.pipeline.worker import run_pipeline

    setup_logging(args.log_level)
    started = time.monotonic()
    alert_settings(args.alert_params)  # a bad --alert-params must not empty the demo folder
    args.data_dir = str(_prepare_dir(Path(args.data_dir)))
    settings = settings_from_args(args)
    events = sample_stream.generate(args.seed, args.scale)
    lines = [json.dumps(e, separators=(",", ":")).encode() for e in events]
    malformed = [] if args.no_malformed else list(sample_stream.MALFORMED)
    state = DemoRun(valid=len(lines), malformed=len(malformed))

    async def controller(p: Pipeline, stop: Callable[[], None]) -> None:
        await _drive(p, stop, state, lines, malformed, args.rate)

    with pipeline_context(settings) as p:
        print(
            f"topictrack demo: {len(lines)} events from {len(sample_stream.STORIES)} stories "
            f"(seed {args.seed}) + {len(malformed)} malformed; "
            f"broker {p.settings.broker.bootstrap_servers}; data in {settings.data_dir}\n"
            f"topictrack demo: dashboard http://{settings.web_host}:{settings.web_port}/ "
            "(live while the demo runs)",
            file=sys.stderr,
            flush=True,
        )
        code = run_pipeline(p, controller)
        summary = _summary(p, state, time.monotonic() - started)
    print(summary)
    if state.finished:
        print(
            "\nopen the dashboard over the demo's data:\n"
            f"  topictrack serve --store chdb:{Path(settings.data_dir) / 'chdb'}\n"
            f"  then http://127.0.0.1:{DEFAULT_WEB_PORT}/"
        )
    if not state.finished:
        if not state.errors:
            print("topictrack demo: interrupted", file=sys.stderr)
            return 130
        print("topictrack demo: did not finish: " + "; ".join(state.errors), file=sys.stderr)
        return code or 1
    return code


async def _drive(
    p: Pipeline,
    stop: Callable[[], None],
    state: DemoRun,
    lines: list[bytes],
    malformed: list[bytes],
    rate: float | None,
) -> None:
    """Produce the stream, redraw the table, stop the worker once everything is stored."""
    loop = asyncio.get_running_loop()
    bootstrap = p.settings.broker.bootstrap_servers

    def produce() -> None:
        state.first_send = time.monotonic()
        state.produce_report = produce_lines(bootstrap, lines, rate=rate)
        if malformed:
            produce_lines(bootstrap, malformed, validate=False)

    producing = loop.run_in_executor(None, produce)
    table = LiveTable(sys.stderr, plain_every=10.0)
    rt = p.runtime
    try:
        while True:
            await asyncio.sleep(0.5)
            if producing.done() and producing.exception():
                state.errors.append(f"producer failed: {producing.exception()!r}")
                return
            c = rt.counters
            stored = c["sink.events"] >= state.valid and c["sink.alerts"] >= c["track.alerts"]
            dead = c["sink.dead_letters"] >= state.malformed
            idle = time.monotonic() - rt.last_progress
            if stored and dead and producing.done() and idle >= SETTLE:
                state.done_at = time.monotonic()
                state.finished = True
                await draw_table(p, table, force=True)
                return
            if idle > STALL_TIMEOUT:
                state.errors.append(f"no progress for {STALL_TIMEOUT:.0f}s: {dict(c)}")
                return
            await draw_table(p, table)
    finally:
        table.close()
        stop()


def _summary(p: Pipeline, state: DemoRun, wall: float) -> str:
    lines = []
    store = p.store
    if store is None:  # the demo runs every stage; without sink there is nothing to sum up
        return "summary unavailable: this worker has no store"
    try:
        alerts = alert_queries.alerts(store, stream="default")
        totals = topic_queries.totals(store)
        top = topic_queries.latest_topics(store, "default", limit=12)
        last = topic_queries.last_event_time(store, "default")
        recent = topic_queries.recent_counts(store, "default", last) if last else {}
    except Exception as exc:  # the summary must not hide the run's own outcome
        return f"summary unavailable: {exc}"
    busy = (state.done_at or time.monotonic()) - (state.first_send or time.monotonic())
    rate = totals["events"] / busy if busy > 0 else 0.0
    lines.append("")
    lines.append("final topics (from ClickHouse):")
    lines.append(to_text(topics_table(top, recent, limit=12)).rstrip())
    lines.append("")
    lines.append("alerts (from ClickHouse, event time):")
    lines.append(to_text(alerts_table(alerts, last=20)).rstrip())
    lines.append("")
    lines.append("summary")
    lines.append(f"  events generated   {state.valid}")
    lines.append(
        f"  events stored      {totals['events']} (distinct ids), {totals['assigned']} with a topic"
    )
    lines.append(
        f"  dead-lettered      {totals['dead_letters']} (sent {state.malformed} malformed)"
    )
    lines.append(f"  topics             {totals['topics']}")
    kinds = {k: sum(a["kind"] == k for a in alerts) for k in alert_queries.ALERT_KINDS}
    lines.append(
        f"  alerts             {len(alerts)} ({', '.join(f'{n} {k}' for k, n in kinds.items())})"
    )
    lines.append(f"  model              {p.runtime.model}")
    lines.append(f"  wall time          {wall:.1f}s (first send to last insert {busy:.1f}s)")
    lines.append(f"  throughput         {rate:.1f} events/s end to end")
    lines.append(f"  store              {store.url}")
    return "\n".join(lines)
