"""The worker's HTTP API (Faust's aiohttp web server): ``/topics``, ``/stats``, ``/healthz``.

``/topics`` answers from the live engines when this worker runs ``track``
(freshest), else from the store's latest snapshots. ``topictrack topics``
uses it while a worker holds the chdb directory.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streamer.app import Pipeline

log = logging.getLogger(__name__)


def topics_payload(p: Pipeline, stream: str | None, limit: int) -> list[dict[str, Any]]:
    """Topic summaries from the engines (``track`` here) or from the store."""
    if "track" in p.settings.agents:
        out: list[dict[str, Any]] = []
        for s, items in sorted(p.runtime.topics.items()):
            if stream is None or s == stream:
                out.extend(items)
        out.sort(key=lambda t: (-t["weight"], -t["size"], t["topic_id"]))
        return out[:limit]
    if p.store is not None:
        from streamer import queries

        return queries.latest_topics(p.store, stream, limit)
    return []


def register(p: Pipeline) -> None:
    """Add the API routes to the pipeline's app."""
    app = p.app

    @app.page("/healthz")
    async def healthz(self, request):
        ok = p.runtime.ready
        return self.json({"ok": ok, "agents": sorted(p.settings.agents)}, status=200 if ok else 503)

    @app.page("/stats")
    async def stats(self, request):
        return self.json(p.runtime.stats())

    @app.page("/topics")
    async def topics(self, request):
        q = request.query
        stream = q.get("stream") or None
        try:
            limit = max(1, min(int(q.get("limit", "20")), 1000))
        except ValueError:
            return self.json({"error": "limit must be an integer"}, status=400)
        loop = asyncio.get_running_loop()
        # Store reads block (chdb is in process): run them off the loop.
        rows = await loop.run_in_executor(None, topics_payload, p, stream, limit)
        return self.json({"topics": rows, "source": _source(p)})


def _source(p: Pipeline) -> str:
    return "engine" if "track" in p.settings.agents else "store"
