"""``topictrack worker``: run some stages against an existing Kafka (production layout).

Example, three processes::

    topictrack worker --agents embed --broker kafka://kafka:9092 --device cuda
    topictrack worker --agents track --broker kafka://kafka:9092 --web-port 6067
    topictrack worker --agents sink  --broker kafka://kafka:9092 \\
        --store clickhouse://clickhouse:9000/topictrack --web-port 6068

Each agent set is its own Kafka consumer group (``topictrack-embed`` ...), so
any number of embed workers share the ``events`` partitions.
"""

from __future__ import annotations

import argparse

from streamer.cli.options import add_pipeline_options, settings_from_args, setup_logging


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "worker",
        help="run some agents (embed, track, sink) as one worker process",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--agents", default="all", help="comma-separated subset of embed,track,sink (default: all)"
    )
    add_pipeline_options(p)
    return p


def run(args: argparse.Namespace) -> int:
    # Faust is imported here: a second of start-up that --help need not pay.
    from streamer.pipeline.launch import pipeline_context
    from streamer.pipeline.worker import run_pipeline

    setup_logging(args.log_level)
    settings = settings_from_args(args)
    with pipeline_context(settings) as p:
        return run_pipeline(p)
