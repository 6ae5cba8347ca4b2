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
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any


def from_worker(data_dirs: list[Path], stream: str | None, limit: int) -> tuple[list, str] | None:
    """Topics from the first live worker (``track`` preferred, then ``sink``) that answers."""
    from streamer.runtime import running_workers

    workers = [w for d in data_dirs for w in running_workers(d) if w.get("web")]
    workers.sort(key=lambda w: "track" not in w.get("agents", []))
    for w in workers:
        if not {"track", "sink"} & set(w.get("agents", [])):
            continue
        q = {"limit": str(limit)} | ({"stream": stream} if stream else {})
        url = f"{w['web']}/topics?{urllib.parse.urlencode(q)}"
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                body = json.load(resp)
        except (urllib.error.URLError, OSError, ValueError):
            continue
        return body.get("topics", []), f"worker pid {w.get('pid')} ({w['web']})"
    return None


def from_store(store_url: str, data_dir: Path, stream: str | None, limit: int) -> tuple[list, str]:
    from streamer import queries
    from streamer.store import open_store

    with open_store(store_url, data_dir) as store:
        return queries.latest_topics(store, stream, limit), store.url


def print_topics(topics: list[dict[str, Any]], source: str) -> None:
    from streamer.dashboard import render

    for line in render(topics, header=f"topics from {source}", limit=len(topics) or 1):
        print(line)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("topics", help="print the current topics", description=__doc__)
    p.add_argument("--data-dir", default="data", help="state folder (default: %(default)s)")
    p.add_argument(
        "--store", default="chdb", help="store to read when no worker runs (default: chdb)"
    )
    p.add_argument("--stream", default=None, help="only this stream")
    p.add_argument("--limit", type=int, default=20, help="how many topics (default: 20)")
    p.add_argument("--json", action="store_true", help="print JSON")
    return p


def run(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir)
    got = from_worker([data_dir, data_dir / "demo"], args.stream, args.limit)
    if got is None:
        got = from_store(args.store, data_dir, args.stream, args.limit)
    topics, source = got
    if args.json:
        json.dump({"source": source, "topics": topics}, sys.stdout, indent=2)
        print()
    else:
        print_topics(topics, source)
    return 0
