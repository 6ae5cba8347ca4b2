"""What the HTTP API reads: the store, and the live state of the worker serving it.

The routes know no Faust: a worker passes its live state through
:class:`LiveWorker`; a process without stages passes none, and the routes
that need it answer so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from streamer.store import Store


class LiveWorker(Protocol):
    """The in-process state of a running worker that the API shows."""

    @property
    def ready(self) -> bool:
        """Partitions assigned and start-up work (the model) done."""
        ...

    def stats(self) -> dict[str, Any]:
        """Counters per stage, engine stats per stream, the webhook's queue."""
        ...

    def topic_summaries(self) -> dict[str, list[dict[str, Any]]]:
        """stream -> the live engine's topics, heaviest first (``track`` workers)."""
        ...

    def recent_alerts(self) -> list[dict[str, Any]]:
        """The newest alerts this worker raised, oldest first (``track`` workers)."""
        ...


@dataclass(frozen=True)
class ApiContext:
    """The sources one API process answers from."""

    #: Stages this process runs (``track`` means its engines are the freshest source).
    agents: frozenset[str]
    store: Store | None = None
    live: LiveWorker | None = None
