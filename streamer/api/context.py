"""What the HTTP API reads: the store, and the live state of the worker serving it.

The routes know no Faust: a worker passes its live state through
:class:`LiveWorker`; a process without stages (``topictrack serve``) passes
none, and the routes that need it answer 409 saying so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from prometheus_client import CollectorRegistry

from streamer.store import Store


class Unavailable(LookupError):
    """This process cannot answer that (no store, no live engine...): answered 409."""


class LiveWorker(Protocol):
    """The in-process state of a running worker that the API shows and uses."""

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

    def alert_log(self) -> tuple[int, int, list[dict[str, Any]]]:
        """``(epoch, total, recent)``: this process's start (s), how many alerts it has
        raised, and the newest of them, oldest first (the live alert feed)."""
        ...

    async def assign(self, stream: str, texts: list[str], k: int) -> list[dict[str, Any]]:
        """Embed ``texts`` and ask the stream's engine for their top-``k`` topics, without
        learning; raises :class:`Unavailable` without a model and an engine."""
        ...

    async def hierarchy(self, stream: str) -> dict[str, Any]:
        """The stream's topic tree from its live engine (:class:`Unavailable` without)."""
        ...

    async def ingest(self, events: list[tuple[str, bytes]]) -> int:
        """Send ``(stream, raw)`` events to Kafka ``events``; raises :class:`Unavailable`
        when this worker cannot produce."""
        ...


@dataclass(frozen=True)
class Security:
    """Who may call the API: an optional bearer token, and an optional CORS origin."""

    #: Required on every ``/api/v1`` call and ``/metrics`` when set.
    token: str | None = None
    #: ``Access-Control-Allow-Origin`` for this origin only; None = no CORS headers.
    cors_origin: str | None = None


@dataclass(frozen=True)
class ApiContext:
    """The sources one API process answers from."""

    #: Stages this process runs (``track`` means its engines are the freshest source).
    agents: frozenset[str]
    store: Store | None = None
    live: LiveWorker | None = None
    security: Security = field(default_factory=Security)
    #: What ``/metrics`` shows (the worker's pipeline metrics); None = the API's own.
    registry: CollectorRegistry | None = None
