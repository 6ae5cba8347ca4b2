"""``topictrack produce FILE|-``: validate JSONL events and send them to Kafka.

Each line is checked against the event schema first; valid events are sent
keyed by ``stream`` with kafka-python, invalid ones are reported with their
line number and reason (exit status 1 if any). ``--rate`` caps events per
second; ``--speedup`` replays in event time (``--speedup 60`` plays an hour
of events in a minute).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from streamer.cli.progress import ProgressLine
from streamer.config import TOPIC_EVENTS
from streamer.kafka.admin import ensure_topics
from streamer.kafka.producer import ProduceReport, produce_lines, read_lines, resolve_bootstrap


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "produce",
        help="validate JSONL events and send them to Kafka",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", help="JSONL file, or - for stdin")
    p.add_argument(
        "--broker",
        default=None,
        help="kafka://host:port[,host:port] (default: the broker of a running `topictrack run`)",
    )
    p.add_argument("--data-dir", default="data", help="where to look for a running worker")
    p.add_argument("--topic", default=TOPIC_EVENTS, help="Kafka topic (default: %(default)s)")
    p.add_argument("--rate", type=float, default=None, help="at most N events per second")
    p.add_argument(
        "--speedup", type=float, default=None, help="replay in event time, X times faster"
    )
    p.add_argument("--partitions", type=int, default=1, help="partitions if the topic is created")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    return p


def run(args: argparse.Namespace) -> int:
    if str(args.file) != "-" and not Path(args.file).is_file():
        print(f"topictrack produce: no such file: {args.file}", file=sys.stderr)
        return 2
    bootstrap = resolve_bootstrap(args.broker, args.data_dir)
    ensure_topics(bootstrap, (args.topic,), partitions=args.partitions)
    line = ProgressLine(enabled=not args.quiet)

    def progress(report: ProduceReport, final: bool) -> None:
        rate = report.sent / max(line.elapsed, 1e-9)
        line.update(f"sent {report.sent}  rejected {len(report.rejected)}  ({rate:,.0f}/s)", final)

    report = produce_lines(
        bootstrap,
        read_lines(args.file),
        topic=args.topic,
        rate=args.rate,
        speedup=args.speedup,
        progress=progress,
    )
    print(report.summary())
    return 0 if report.ok else 1
