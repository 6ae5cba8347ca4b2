"""The live alert feed behind ``GET /api/v1/alerts/events`` (server-sent events).

Each alert goes out with an SSE ``id`` that is a *cursor*: a client that
reconnects sends it back (``Last-Event-ID``) and gets only what came after
it, so a reconnect never repeats an alert. Two sources, one interface:

- :class:`LiveFeed`, in a process that runs ``track``: the worker's in-memory
  alert log, numbered as raised. Cursor ``L<epoch>.<n>``: the epoch is the
  worker's start, so a cursor from an earlier process is not mistaken for
  one of this process (its alerts are then sent from the start of the log,
  which holds only alerts this process raised).
- :class:`StoreFeed`, otherwise: the ``alerts`` table ordered by
  ``(created_at, alert_id)``. Cursor ``S<created_at>.<alert_id>``. The sink
  inserts an alert a moment after it was created, so the feed only passes
  alerts created at least :data:`SETTLE_S` ago: an alert inserted late can
  then not land behind a cursor already handed out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from streamer.api.context import LiveWorker
from streamer.store import Store, alert_queries

#: Seconds an alert must have existed before the store feed passes it: the
#: longest a created alert takes to reach ClickHouse (sink batches wait up to
#: 1 s, plus the insert), with room to spare.
SETTLE_S = 5
#: Alerts read per poll of the store.
STORE_PAGE = 500

Item = tuple[str, dict[str, Any]]


class AlertFeed(Protocol):
    def cursor(self) -> str:
        """The position right now: a client starting here gets only later alerts."""
        ...

    def after(self, cursor: str | None) -> tuple[list[Item], str]:
        """Alerts after ``cursor`` as ``(id, alert)``, oldest first, and the new cursor."""
        ...


class LiveFeed:
    """The alerts a ``track`` worker raised, from its in-memory log."""

    def __init__(self, live: LiveWorker) -> None:
        self.live = live

    def cursor(self) -> str:
        epoch, total, _ = self.live.alert_log()
        return f"L{epoch}.{total}"

    def after(self, cursor: str | None) -> tuple[list[Item], str]:
        epoch, total, log = self.live.alert_log()
        seen = 0
        if cursor and cursor.startswith(f"L{epoch}."):
            try:
                seen = int(cursor.rsplit(".", 1)[1])
            except ValueError:
                seen = 0
        first = total - len(log)  # number of the oldest alert still in the log, minus one
        seen = min(max(seen, first), total)
        items = [(f"L{epoch}.{first + i + 1}", a) for i, a in enumerate(log) if first + i >= seen]
        return items, f"L{epoch}.{total}"


def _store_cursor(cursor: str | None) -> tuple[int, str]:
    if cursor and cursor.startswith("S"):
        created, _, alert_id = cursor[1:].partition(".")
        if created.isdigit():
            return int(created), alert_id
    return 0, ""


class StoreFeed:
    """Alerts from the ``alerts`` table, settled for :data:`SETTLE_S` seconds."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    def cursor(self) -> str:
        return f"S{int(self.clock()) - SETTLE_S}."

    def after(self, cursor: str | None) -> tuple[list[Item], str]:
        created, alert_id = _store_cursor(cursor)
        settled = int(self.clock()) - SETTLE_S
        rows = alert_queries.alerts_created_after(
            self.store, created, alert_id, settled, STORE_PAGE
        )
        items = [(f"S{r['created_at']}.{r['alert_id']}", r) for r in rows]
        if items:
            return items, items[-1][0]
        # Nothing new: move up to the settled horizon, so later polls read less.
        if settled > created:
            return [], f"S{settled}."
        return [], cursor or self.cursor()


def feed_for(live: LiveWorker | None, agents: frozenset[str], store: Store | None) -> AlertFeed:
    """The freshest source this process has: its own alerts (``track``), else the store."""
    if live is not None and "track" in agents:
        return LiveFeed(live)
    if store is not None:
        return StoreFeed(store)
    raise LookupError("this process has neither a track stage nor a store: no alerts to follow")
