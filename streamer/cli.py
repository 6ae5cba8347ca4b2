"""``topictrack``: the command-line entry point.

Every subcommand lives in its own module exposing ``add_parser(subparsers)``
and ``run(args) -> int``; this module only wires them together. Optional
modules (``evaluate``) are skipped when absent, so the CLI works while they
are being written.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: Subcommand modules, in help order. ``optional`` ones may be missing.
COMMANDS: tuple[tuple[str, bool], ...] = (
    ("streamer.demo", False),
    ("streamer.run", False),
    ("streamer.worker_cmd", False),
    ("streamer.produce", False),
    ("streamer.topics_cmd", False),
    ("streamer.trending_cmd", False),
    ("streamer.alerts_cmd", False),
    ("streamer.migrate", False),
    ("streamer.evaluate", True),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="topictrack",
        description="Streaming, real-time topic tracking: Kafka in, online topics out, "
        "ClickHouse for queries.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, optional in COMMANDS:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if optional and exc.name == name:
                continue
            raise
        p = mod.add_parser(sub)
        p.set_defaults(func=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    from streamer.broker import BrokerError
    from streamer.checkpoint import CheckpointError
    from streamer.config import ConfigError
    from streamer.store import StoreError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"topictrack {args.command}: interrupted", file=sys.stderr)
        return 130
    except (StoreError, BrokerError, CheckpointError, ConfigError) as exc:
        print(f"topictrack {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
