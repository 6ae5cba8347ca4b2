"""``topictrack migrate``: apply the ClickHouse DDL in ``schemas/sql`` (idempotent)."""

from __future__ import annotations

import argparse

from streamer.store import open_store


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("migrate", help="create or update the ClickHouse tables")
    p.add_argument(
        "--store", default="chdb", help="chdb (default), chdb:PATH or clickhouse://host:9000/db"
    )
    p.add_argument("--data-dir", default="data", help="state folder (default: %(default)s)")
    return p


def run(args: argparse.Namespace) -> int:
    with open_store(args.store, args.data_dir) as store:
        applied = store.migrate()
        print(f"{store.url}: " + (f"applied {', '.join(applied)}" if applied else "up to date"))
    return 0
