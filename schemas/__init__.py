"""The contracts: the event JSON Schema and the ClickHouse DDL, as package data.

``SCHEMA_DIR`` is this folder; ``sql/NNN_name.sql`` files are applied in order
by ``topictrack migrate``.
"""

from __future__ import annotations

from pathlib import Path

#: Folder holding ``event.schema.json`` and ``sql/``.
SCHEMA_DIR = Path(__file__).resolve().parent

#: The event JSON Schema (what producers send to the ``events`` topic).
EVENT_SCHEMA_PATH = SCHEMA_DIR / "event.schema.json"

#: ClickHouse DDL, one ``NNN_name.sql`` file per migration.
SQL_DIR = SCHEMA_DIR / "sql"

#: Documented read queries (``trending.sql``), runnable on chdb and ClickHouse 18.16.
QUERIES_DIR = SCHEMA_DIR / "queries"

#: The alert JSON Schema (Kafka ``alerts`` messages, the ``alerts`` table, webhooks).
ALERT_SCHEMA_PATH = SCHEMA_DIR / "alert.schema.json"

#: Largest epoch second a ClickHouse ``DateTime`` (UInt32) holds: the latest
#: event ``ts`` the tables can store, so validation rejects anything later.
MAX_DATETIME = 2**32 - 1
