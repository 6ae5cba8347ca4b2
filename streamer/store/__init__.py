"""ClickHouse storage: one ``Store`` interface, chdb in process or a server.

``open_store(spec, data_dir)`` takes the ``--store`` value:

- ``chdb`` (default): chdb with its data under ``<data-dir>/chdb``;
- ``chdb:PATH``: chdb with its data in ``PATH``;
- ``clickhouse://[user[:password]@]host[:port]/database``: a server through
  clickhouse-driver (native protocol, default port 9000, database
  ``topictrack``).
"""

from __future__ import annotations

from pathlib import Path

from streamer.config import StoreSpec, parse_store_url
from streamer.store.base import Store, StoreError, StoreLockedError, TransientStoreError

__all__ = [
    "Store",
    "StoreError",
    "StoreLockedError",
    "TransientStoreError",
    "open_store",
]


def open_store(spec: str | StoreSpec, data_dir: str | Path = "data") -> Store:
    """Open the store named by a ``--store`` value (see the module docstring)."""
    s = spec if isinstance(spec, StoreSpec) else parse_store_url(spec, data_dir)
    # Each backend's client library loads only when that backend is opened:
    # chdb is the whole ClickHouse engine (hundreds of MB) in one library.
    if s.kind == "chdb":
        from streamer.store.chdb_store import ChdbStore

        return ChdbStore(s.path)
    from streamer.store.server_store import ServerStore

    return ServerStore(s.host, s.port, s.database, s.user, s.password)
