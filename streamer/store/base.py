"""The ``Store`` interface: migrations, batched inserts and parameterised queries.

Two implementations share it: :class:`~streamer.store.chdb_store.ChdbStore`
(ClickHouse in process) and :class:`~streamer.store.server_store.ServerStore`
(a ClickHouse server over the native protocol). Both run the same DDL and SQL.
"""

from __future__ import annotations

import abc
import logging
import re
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from streamer.store.sql import load_migrations, render
from streamer.store.tables import TABLES

log = logging.getLogger(__name__)

#: Bookkeeping table for ``topictrack migrate``: one row per applied file.
MIGRATIONS_TABLE_DDL = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime
) ENGINE = ReplacingMergeTree
ORDER BY version
"""


#: ``ALTER TABLE t ADD COLUMN IF NOT EXISTS c ...``: ClickHouse 18.16 cannot
#: parse the clause, so :meth:`Store.migrate` checks ``system.columns`` itself.
_ADD_COLUMN = re.compile(
    r"^\s*ALTER\s+TABLE\s+(\w+)\s+ADD\s+COLUMN\s+IF\s+NOT\s+EXISTS\s+(\w+)\s", re.I | re.S
)


#: Rows for an insert: a list of dicts keyed by column, or a dict of columns.
Rows = Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]]


class StoreError(RuntimeError):
    """A store operation failed."""


class TransientStoreError(StoreError):
    """The store could not be reached; retrying the same operation may succeed."""


class StoreLockedError(StoreError):
    """Another process holds the chdb data directory."""


def normalise_value(value: Any, type_name: str) -> Any:
    """Turn a backend value into a plain JSON-able Python value.

    ``DateTime`` columns become integer epoch seconds on both backends; NaN
    stays a float; 64-bit integers are ints.
    """
    t = type_name
    if t.startswith("Nullable("):
        if value is None:
            return None
        t = t[len("Nullable(") : -1]
    if t.startswith("LowCardinality("):
        t = t[len("LowCardinality(") : -1]
    if t.startswith("Array("):
        inner = t[len("Array(") : -1]
        return [normalise_value(v, inner) for v in (value or [])]
    if t.startswith("DateTime"):
        if hasattr(value, "timestamp"):
            return int(value.timestamp())
        return int(value)
    if t.startswith(("Int", "UInt")):
        return int(value)
    if t.startswith("Float") or t.startswith("Decimal"):
        return float(value)  # also parses chdb's "nan" / "inf" strings
    return value


class Store(abc.ABC):
    """ClickHouse storage for events, topics, alerts and dead letters."""

    #: ``chdb:/path`` or ``clickhouse://host:port/db``; for logs and errors.
    url: str

    def __init__(self) -> None:
        # One statement at a time per connection: both chdb and the native
        # client are not safe for concurrent statements on one handle.
        self._lock = threading.RLock()

    # -- backend hooks -------------------------------------------------
    @abc.abstractmethod
    def _execute(self, sql: str) -> None:
        """Run one statement that returns nothing."""

    @abc.abstractmethod
    def _select(self, sql: str) -> tuple[list[str], list[str], list[Sequence[Any]]]:
        """Run a SELECT; return column names, ClickHouse type names and rows."""

    @abc.abstractmethod
    def _insert_rows(self, table: str, columns: list[str], rows: list[dict[str, Any]]) -> None:
        """Insert converted rows (every column present, Python-typed)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection (and the chdb directory lock)."""

    # -- public API ----------------------------------------------------
    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run a statement with ``%(name)s`` parameters (DDL, ALTER, OPTIMIZE...)."""
        with self._lock:
            self._execute(render(sql, params))

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a SELECT with ``%(name)s`` parameters; rows as dicts of plain values."""
        with self._lock:
            names, types, rows = self._select(render(sql, params))
        return [
            {n: normalise_value(v, t) for n, t, v in zip(names, types, row, strict=True)}
            for row in rows
        ]

    def insert(self, table: str, rows: Rows) -> int:
        """Insert into one of the sink's tables; returns the row count.

        ``rows`` is a list of dicts keyed by column, or columns: a dict of
        equally long lists (missing optional columns get neutral values).
        """
        spec = TABLES[table]
        if isinstance(rows, Mapping):
            lengths = {len(v) for v in rows.values()}
            if len(lengths) > 1:
                raise ValueError(f"columns of unequal length: {sorted(lengths)}")
            n = lengths.pop() if lengths else 0
            rows = [{k: v[i] for k, v in rows.items()} for i in range(n)]
        if not rows:
            return 0
        converted = spec.convert_many(rows)
        with self._lock:
            self._insert_rows(spec.name, spec.column_names, converted)
        return len(converted)

    def insert_events(self, rows: Rows) -> int:
        return self.insert("events", rows)

    def insert_topics(self, rows: Rows) -> int:
        return self.insert("topics", rows)

    def insert_alerts(self, rows: Rows) -> int:
        return self.insert("alerts", rows)

    def insert_dead_letters(self, rows: Rows) -> int:
        return self.insert("dead_letters", rows)

    def applied_migrations(self) -> dict[int, str]:
        """Versions already applied, with their checksums."""
        self.execute(MIGRATIONS_TABLE_DDL)
        rows = self.query(
            "SELECT version, argMax(checksum, applied_at) AS checksum "
            "FROM schema_migrations GROUP BY version"
        )
        return {int(r["version"]): str(r["checksum"]) for r in rows}

    def migrate(self) -> list[str]:
        """Apply the DDL files not yet applied, in order; return the names applied.

        Every statement is ``IF NOT EXISTS``, so a run interrupted half-way is
        simply repeated. A changed file that was already applied is reported,
        not re-run: write a new numbered file instead.
        """
        applied = self.applied_migrations()
        done: list[str] = []
        for m in load_migrations():
            label = f"{m.version:03d}_{m.name}"
            if m.version in applied:
                if applied[m.version] != m.checksum:
                    log.warning("migration %s changed after it was applied; not re-run", label)
                continue
            for statement in m.statements:
                self._apply(statement)
            # Through the insert path: a bare INSERT ... VALUES statement makes
            # ClickHouse 18.16 wait for a data block from clickhouse-driver.
            record = {
                "version": m.version,
                "name": m.name,
                "checksum": m.checksum,
                "applied_at": int(time.time()),
            }
            with self._lock:
                self._insert_rows("schema_migrations", list(record), [record])
            done.append(label)
        return done

    def _apply(self, statement: str) -> None:
        """Run one migration statement; ``ADD COLUMN IF NOT EXISTS`` is checked here.

        One column per ALTER: the check looks at that column only.
        """
        m = _ADD_COLUMN.match(statement)
        if m is None:
            self.execute(statement)
            return
        table, column = m.group(1), m.group(2)
        found = self.query(
            "SELECT count() AS n FROM system.columns "
            "WHERE database = currentDatabase() AND table = %(t)s AND name = %(c)s",
            {"t": table, "c": column},
        )
        if int(found[0]["n"]):
            return
        try:
            self.execute(re.sub(r"\s+IF\s+NOT\s+EXISTS", "", statement, count=1, flags=re.I))
        except StoreError as exc:
            # Another worker migrating the same database added it between our
            # check and our ALTER (measured: sink and track workers starting
            # together); the column is there, which is all this statement wants.
            if "already exists" not in str(exc):
                raise

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"
