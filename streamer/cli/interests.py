"""``topictrack interests USER``: what a user is into now, from their topic profile.

Asks a running worker's HTTP API first (``GET /api/v1/users/USER/interests``;
a running worker holds the chdb directory), else reads the store directly.
Shares are the user's row of the user-topic matrix; weights are decayed in
event time to ``as_of``, the stream's newest event (docs/interests.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
from datetime import UTC, datetime
from typing import Any

from rich.table import Table

from streamer.api.context import ApiContext
from streamer.api.interest_payloads import interests
from streamer.api.payloads import NotFound
from streamer.cli.live_table import console_for
from streamer.cli.options import add_read_options, read_from_worker_or_store
from streamer.config import ConfigError


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "interests", help="print a user's topic interests", description=__doc__
    )
    p.add_argument("user", help="the user_id, as in the events")
    p.add_argument("--limit", type=int, default=10, help="how many topics (1-32, default: 10)")
    add_read_options(p, stream_default="default")
    return p


def _from_store(store: Any, args: argparse.Namespace) -> dict[str, Any] | None:
    ctx = ApiContext(agents=frozenset(), store=store)
    try:
        return interests(ctx, {"stream": args.stream, "user_id": args.user, "limit": args.limit})
    except NotFound:
        return None


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 32:
        raise ConfigError("--limit must be between 1 and 32")
    if not args.user or len(args.user) > 256:
        raise ConfigError("USER must be 1 to 256 characters (the event schema's user_id)")
    path = f"/api/v1/users/{urllib.parse.quote(args.user, safe='')}/interests"
    body, source = read_from_worker_or_store(
        args,
        path,
        {"stream": args.stream, "limit": str(args.limit)},
        ("sink", "track"),
        lambda b: b,
        lambda store: _from_store(store, args),
        missing=lambda: None,
    )
    if body is None:
        print(f"topictrack interests: no profile of {args.user!r} in stream {args.stream!r}",
              file=sys.stderr)  # fmt: skip
        return 1
    if args.json:
        json.dump({**body, "source": source}, sys.stdout, indent=2)
        print()
        return 0
    as_of = datetime.fromtimestamp(body["as_of"], UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = f"{args.user} in {args.stream!r}: {body['posts']} posts, as of {as_of} (event time)"
    table = Table(caption=f"from {source}")
    for col in ("topic", "share", "weight", "label", "last post"):
        table.add_column(col, justify="right" if col in ("share", "weight") else "left")
    for t in body["topics"]:
        table.add_row(
            str(t["topic_id"]), f"{t['share']:.2f}", f"{t['weight']:.2f}", t["label"],
            datetime.fromtimestamp(t["last_ts"], UTC).strftime("%m-%d %H:%M"),
        )  # fmt: skip
    console = console_for(sys.stdout)
    console.print(header)
    console.print(table)
    if body.get("keywords"):
        console.print("keywords: " + ", ".join(body["keywords"]))
    return 0
