"""``Store`` on a ClickHouse server through clickhouse-driver (native protocol, port 9000).

Works with servers as old as Debian's 18.16 (clickhouse-connect, which speaks
HTTP, does not). The database in the URL is created on connect if missing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from clickhouse_driver import Client, errors

from streamer.store.base import Store, StoreError, TransientStoreError

log = logging.getLogger(__name__)
# clickhouse-driver logs every failed connect with a traceback; the sink's own
# "store unreachable; retrying" line says it once per try, without one.
logging.getLogger("clickhouse_driver.connection").setLevel(logging.CRITICAL)


def _client(host: str, port: int, database: str, user: str, password: str) -> Client:
    return Client(
        host=host,
        port=port,
        database=database,
        user=user,
        password=password,
        connect_timeout=5,
        send_receive_timeout=120,
        # Big sink batches: fewer round trips.
        settings={"insert_block_size": 1_048_576},
    )


def _transient(exc: BaseException) -> bool:
    return isinstance(
        exc, (errors.NetworkError, errors.SocketTimeoutError, EOFError, ConnectionError, OSError)
    )


class ServerStore(Store):
    """ClickHouse server via clickhouse-driver; ``clickhouse://[user[:pw]@]host[:port]/db``."""

    def __init__(
        self,
        host: str,
        port: int = 9000,
        database: str = "topictrack",
        user: str = "default",
        password: str = "",
    ) -> None:
        super().__init__()
        self.url = f"clickhouse://{host}:{port}/{database}"
        self.database = database
        try:
            bootstrap = _client(host, port, "default", user, password)
            bootstrap.execute(f"CREATE DATABASE IF NOT EXISTS `{database}`")
            bootstrap.disconnect()
        except Exception as exc:
            cls = TransientStoreError if _transient(exc) else StoreError
            raise cls(f"cannot reach ClickHouse at {host}:{port}: {exc}") from exc
        self._client = _client(host, port, database, user, password)

    def _run(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if _transient(exc):
                # Drop the broken socket; the next call reconnects.
                self._client.disconnect()
                raise TransientStoreError(f"{self.url}: {exc}") from exc
            raise StoreError(f"{self.url}: {exc}") from exc

    def _execute(self, sql: str) -> None:
        self._run(self._client.execute, sql)

    def _select(self, sql: str) -> tuple[list[str], list[str], list[Sequence[Any]]]:
        rows, cols = self._run(self._client.execute, sql, with_column_types=True)
        types = [c[1] for c in cols]
        times = [i for i, t in enumerate(types) if t.startswith("DateTime")]
        if times and rows:
            # The driver returns naive datetimes in the server's time zone.
            tz = ZoneInfo(self._client.connection.server_info.get_timezone())
            rows = [list(r) for r in rows]
            for r in rows:
                for i in times:
                    if r[i] is not None and r[i].tzinfo is None:
                        r[i] = r[i].replace(tzinfo=tz)
        return [c[0] for c in cols], types, rows

    def _insert_rows(self, table: str, columns: list[str], rows: list[dict[str, Any]]) -> None:
        cols = ", ".join(columns)
        data = [[r[c] for c in columns] for r in rows]
        self._run(self._client.execute, f"INSERT INTO {table} ({cols}) VALUES", data)

    def close(self) -> None:
        client = getattr(self, "_client", None)
        if client is not None:
            client.disconnect()
