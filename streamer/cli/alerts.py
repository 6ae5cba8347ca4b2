"""``topictrack alerts``: list emerging-topic alerts, newest last, or follow them.

``--since 1h`` keeps the alerts that fired within one hour of *event time*
before the newest alert (of the chosen stream and kind), not before the wall
clock: a replayed stream answers like a live one, and "the last hour" of a
quiet stream still shows its last alerts. ``--follow`` polls and prints new
alerts (each alert once, by ``alert_id``) until Ctrl-C. Asks a running worker
first (it holds the chdb directory), else reads the store.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from streamer.cli.options import add_read_options, read_from_worker_or_store
from streamer.durations import duration_arg
from streamer.store import alert_queries


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "alerts",
        help="list (or --follow) emerging-topic alerts",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--since",
        type=duration_arg,
        default=None,
        help="only alerts within this much event time before the newest one, e.g. 1h "
        "(default: all)",
    )
    p.add_argument("--follow", action="store_true", help="keep printing new alerts until Ctrl-C")
    p.add_argument(
        "--interval", type=float, default=2.0, help="seconds between polls with --follow"
    )
    p.add_argument(
        "--kind", choices=("new", "development", "burst"), default=None, help="only this kind"
    )
    p.add_argument("--limit", type=int, default=1000, help="at most this many (the newest)")
    add_read_options(p, json_help="one JSON object per line")
    return p


def fetch(args: argparse.Namespace) -> tuple[list[dict[str, Any]], str]:
    """Alerts, oldest first, and where they came from."""
    params = {
        "since": f"{int(args.since)}s" if args.since else "",
        "stream": args.stream or "",
        "kind": args.kind or "",
        "limit": str(args.limit),
    }
    # A worker with the store has every alert; a track worker its recent ones.
    return read_from_worker_or_store(
        args,
        "/api/v1/alerts",
        params,
        ("sink", "track"),
        lambda body: body.get("alerts", []),
        lambda store: alert_queries.alerts(store, args.since, args.stream, args.kind, args.limit),
    )


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))


def render(alert: dict[str, Any]) -> list[str]:
    """Two lines per alert: when, kind, topic, score, size, label | keywords; an example."""
    kws = ", ".join(list(alert.get("keywords") or [])[:8])
    head = (
        f"{_when(alert['window_end'])}  {alert['kind']:<5}  {alert['stream']}/{alert['topic_id']}"
        f"  score {alert['score']:.1f}  size {alert['size']}  {alert['label']} | {kws}"
    )
    examples = list(alert.get("examples") or [])
    return [head] + ([f"    e.g. {examples[0][:160]}"] if examples else [])


def show(alerts: list[dict[str, Any]], as_json: bool) -> None:
    for a in alerts:
        if as_json:
            print(json.dumps(a, ensure_ascii=False), flush=True)
        else:
            print("\n".join(render(a)), flush=True)


def run(args: argparse.Namespace) -> int:
    alerts, source = fetch(args)
    if not args.json:
        print(f"alerts from {source}" + ("" if alerts else ": none"), file=sys.stderr)
    show(alerts, args.json)
    if not args.follow:
        return 0
    seen = {a["alert_id"] for a in alerts}
    last_error = ""
    try:
        while True:
            time.sleep(args.interval)
            try:
                latest, _ = fetch(args)
            except Exception as exc:  # a worker stopping mid-poll: try again next round
                # Said once, not at every poll: a busy worker can miss many in a row.
                if str(exc) != last_error:
                    print(f"topictrack alerts: {exc} (retrying)", file=sys.stderr)
                    last_error = str(exc)
                continue
            last_error = ""
            fresh = [a for a in latest if a["alert_id"] not in seen]
            seen.update(a["alert_id"] for a in fresh)
            show(fresh, args.json)
    except KeyboardInterrupt:
        return 0
