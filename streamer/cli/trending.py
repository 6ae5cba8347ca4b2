"""``topictrack trending``: the topics trending now, in event time.

Ranks topics by the trending score of ``workers/trending.py`` over the
per-minute counts in ClickHouse (``schemas/queries/trending.sql``): count in
the window against what the topic's own baseline predicts, as a Poisson
z-score; topics under ``--min-support`` posts in the window never trend.
"Now" is the newest minute with an assigned event in the stream, never the
wall clock. Asks a running worker first (it holds the chdb directory), else
reads the store.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from streamer.cli.options import add_read_options, read_from_worker_or_store
from streamer.config import ConfigError
from streamer.durations import duration_arg, format_duration
from streamer.store import trending_queries


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "trending",
        help="print the trending topics (event time) from ClickHouse",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--window", type=duration_arg, default=15 * 60.0, help="recent window (default: 15m)"
    )
    p.add_argument(
        "--baseline",
        type=duration_arg,
        default=24 * 3600.0,
        help="history before the window the growth is measured against (default: 24h)",
    )
    p.add_argument(
        "--min-support", type=int, default=5, help="posts needed in the window (default: 5)"
    )
    p.add_argument("--limit", type=int, default=10, help="how many topics (default: 10)")
    add_read_options(p, stream_default="default")
    return p


def fetch(args: argparse.Namespace) -> tuple[list[dict[str, Any]], str]:
    """Rows and where they came from: a running worker's API, else the store."""
    try:
        trending_queries.check_trend_windows(args.window, args.baseline, args.min_support)
    except ValueError as exc:
        raise ConfigError(f"--window/--baseline/--min-support: {exc}") from None
    params = {
        "stream": args.stream,
        "window": f"{int(args.window)}s",
        "baseline": f"{int(args.baseline)}s",
        "min_support": str(args.min_support),
        "limit": str(args.limit),
    }
    return read_from_worker_or_store(
        args,
        "/api/v1/trending",
        params,
        ("sink",),
        lambda body: body.get("trending", []),
        lambda store: trending_queries.trending(
            store, args.stream, args.window, args.baseline, args.min_support, args.limit
        ),
    )


def render(rows: list[dict[str, Any]], args: argparse.Namespace, source: str) -> list[str]:
    window, baseline = format_duration(args.window), format_duration(args.baseline)
    if rows:
        end = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(rows[0]["now_ts"] + 60))
        when = f"{window} window ending {end} (event time)"
    else:
        when = f"{window} window"
    lines = [
        f"trending in stream {args.stream!r}: {when}, baseline {baseline}, "
        f"support >= {args.min_support}; from {source}",
        f"{'topic':>6} {'count':>6} {'growth':>8} {'score':>8}  label | keywords",
    ]
    for r in rows:
        kws = ", ".join(r["keywords"][:8])
        lines.append(
            f"{r['topic_id']:>6} {r['window_count']:>6} {r['growth']:>8.1f} {r['score']:>8.1f}  "
            f"{r['label'] or '-'} | {kws}"
        )
    if not rows:
        lines.append(f"   (no topic has {args.min_support}+ posts in the window)")
    return lines


def run(args: argparse.Namespace) -> int:
    rows, source = fetch(args)
    if args.json:
        json.dump({"source": source, "stream": args.stream, "trending": rows}, sys.stdout, indent=2)
        print()
    else:
        print("\n".join(render(rows, args, source)))
    return 0
