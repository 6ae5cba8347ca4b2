"""``topictrack topics``: print the current topics.

Asks a running worker's HTTP API first (found through ``--data-dir``; the
demo's lives under ``<data-dir>/demo``), because a running worker holds the
chdb directory and nobody else may open it. Without a running worker it
reads the store directly.
"""

from __future__ import annotations

import argparse
import json
import sys

from streamer.cli.live_table import console_for, topics_table
from streamer.cli.options import add_read_options, read_from_worker_or_store
from streamer.store import topic_queries


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("topics", help="print the current topics", description=__doc__)
    p.add_argument("--limit", type=int, default=20, help="how many topics (default: 20)")
    add_read_options(p)
    return p


def run(args: argparse.Namespace) -> int:
    params = {"limit": str(args.limit), "stream": args.stream or ""}
    # The live engines (track) are fresher than the store's last snapshots (sink).
    topics, source = read_from_worker_or_store(
        args,
        "/api/v1/topics",
        params,
        ("track", "sink"),
        lambda body: body.get("topics", []),
        lambda store: topic_queries.latest_topics(store, args.stream, args.limit),
    )
    if args.json:
        json.dump({"source": source, "topics": topics}, sys.stdout, indent=2)
        print()
    else:
        table = topics_table(topics, title=f"topics from {source}", limit=len(topics) or 1)
        console_for(sys.stdout).print(table)
    return 0
