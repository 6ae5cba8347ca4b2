"""``topictrack serve``: the dashboard and the ``/api/v1`` routes over a store, read-only.

The production API process: start it as many times as needed next to a
ClickHouse server (``--store clickhouse://host:9000/db``), or over a chdb
directory no worker holds (e.g. after ``topictrack demo``:
``topictrack serve --store chdb:data/demo/chdb``). It runs no stage, so the
routes that need a live engine or a producer (``assign``, ``hierarchy``,
``POST /events``) answer 409 saying so; topics, trends, timelines, alerts
(and their live feed, polled from the store) and health come from the store.
Nothing is written: the tables must exist (``topictrack migrate``).
"""

from __future__ import annotations

import argparse
import sys

from streamer.cli.options import add_api_options, api_token
from streamer.config import DEFAULT_WEB_PORT, ConfigError


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "serve",
        help="serve the dashboard and the HTTP API over a store (read-only)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--store",
        default="chdb",
        help="chdb (<data-dir>/chdb, default), chdb:PATH or clickhouse://host:9000/db",
    )
    p.add_argument("--data-dir", default="data", help="state folder (default: %(default)s)")
    p.add_argument(
        "--web-port", type=int, default=DEFAULT_WEB_PORT, help="port (default: %(default)s)"
    )
    add_api_options(p)
    return p


#: Tables the routes read; without them the store was never migrated.
NEEDED_TABLES = ("events", "topics", "topic_minute_counts", "alerts", "dead_letters")


def run(args: argparse.Namespace) -> int:
    # aiohttp and the store's client load here, not at `topictrack --help`.
    from aiohttp import web

    from streamer.api import ApiContext, Security, add_routes
    from streamer.store import open_store

    token = api_token(args)
    store = open_store(args.store, args.data_dir)
    try:
        found = {
            r["name"]
            for r in store.query(
                "SELECT name FROM system.tables WHERE database = currentDatabase()"
            )
        }
        missing = [t for t in NEEDED_TABLES if t not in found]
        if missing:
            raise ConfigError(
                f"{store.url} has no table {', '.join(missing)}: run `topictrack migrate "
                f"--store {args.store}` (or a worker) first; serve only reads"
            )
        app = web.Application()
        ctx = ApiContext(
            agents=frozenset(), store=store, security=Security(token, args.cors_origin)
        )
        add_routes(app, ctx)
        print(
            f"topictrack serve: {store.url} read-only; dashboard http://{args.web_host}:"
            f"{args.web_port}/ (API /api/v1/openapi.json); Ctrl-C stops",
            file=sys.stderr,
            flush=True,
        )
        web.run_app(app, host=args.web_host, port=args.web_port, print=None)
    finally:
        store.close()
    return 0
