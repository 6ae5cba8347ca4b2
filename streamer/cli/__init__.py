"""``topictrack``: the command-line entry point.

Every subcommand lives in its own module of this package, named after the
command, exposing ``add_parser(subparsers)`` and ``run(args) -> int``; this
module only wires them together. Command modules import their heavy machinery
(Faust, the store, torch) inside ``run``, so ``topictrack --help`` and a
mistyped option answer at once.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from streamer.config import ConfigError
from streamer.kafka.broker import BrokerError
from streamer.pipeline.checkpoint import CheckpointError
from streamer.store import StoreError

#: Subcommand modules, in help order.
COMMANDS: tuple[str, ...] = (
    "streamer.cli.demo",
    "streamer.cli.run",
    "streamer.cli.worker",
    "streamer.cli.produce",
    "streamer.cli.topics",
    "streamer.cli.trending",
    "streamer.cli.alerts",
    "streamer.cli.serve",
    "streamer.cli.migrate",
    "streamer.cli.eval",
    "streamer.cli.interests",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="topictrack",
        description="Streaming, real-time topic tracking: Kafka in, online topics out, "
        "ClickHouse for queries.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        mod = importlib.import_module(name)
        p = mod.add_parser(sub)
        p.set_defaults(func=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # The command line as given: `run` hands it on to the worker it supervises.
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"topictrack {args.command}: interrupted", file=sys.stderr)
        return 130
    except (StoreError, BrokerError, CheckpointError, ConfigError) as exc:
        print(f"topictrack {args.command}: {exc}", file=sys.stderr)
        return 1
