"""Parameter rendering and migration loading shared by both stores.

SQL uses the ``%(name)s`` placeholder style of clickhouse-driver. Both stores
render parameters client-side with this module (the escaping is
clickhouse-driver's), so a query means exactly the same text on chdb and on a
server. As with the driver, ``%`` must be written ``%%`` when params are given.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from clickhouse_driver.util.escape import escape_chars_map

from schemas import SQL_DIR

_MIGRATION_NAME = re.compile(r"^(\d+)_([A-Za-z0-9_]+)\.sql$")


def escape_value(value: Any) -> str:
    """Render one Python value as a ClickHouse SQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot bind non-finite float {value!r}")
        return repr(value)
    if isinstance(value, str):
        return "'" + "".join(escape_chars_map.get(c, c) for c in value) + "'"
    if isinstance(value, datetime):
        # Epoch seconds: independent of the server's and the client's time zone.
        return f"toDateTime({int(value.timestamp())})"
    if isinstance(value, date):
        return f"toDate('{value.isoformat()}')"
    if isinstance(value, (list, tuple, set, frozenset)):
        inner = ", ".join(escape_value(v) for v in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    raise TypeError(f"cannot bind a {type(value).__name__} as a SQL parameter")


def render(sql: str, params: Mapping[str, Any] | None = None) -> str:
    """Substitute ``%(name)s`` placeholders with escaped literals (none when ``params`` is None)."""
    if params is None:
        return sql
    return sql % {k: escape_value(v) for k, v in params.items()}


@dataclass(frozen=True)
class Migration:
    """One ``NNN_name.sql`` file: its number, name, statements and checksum."""

    version: int
    name: str
    statements: tuple[str, ...]
    checksum: str


def split_statements(text: str) -> list[str]:
    """Split a DDL file on ``;`` after dropping ``--`` comment lines."""
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


def load_migrations(sql_dir: Path = SQL_DIR) -> list[Migration]:
    """All migrations in ``sql_dir``, in version order; duplicate numbers are an error."""
    found: dict[int, Migration] = {}
    for path in sorted(sql_dir.glob("*.sql")):
        m = _MIGRATION_NAME.match(path.name)
        if not m:
            raise ValueError(f"migration file name must look like 001_name.sql: {path.name}")
        version = int(m.group(1))
        if version in found:
            raise ValueError(f"two migrations numbered {version}: {path.name}")
        text = path.read_text(encoding="utf-8")
        found[version] = Migration(
            version=version,
            name=m.group(2),
            statements=tuple(split_statements(text)),
            checksum=hashlib.sha256(text.encode()).hexdigest()[:16],
        )
    return [found[v] for v in sorted(found)]
