"""The worker's HTTP API (Faust's aiohttp web server).

- ``/topics``: from the live engines when this worker runs ``track``
  (freshest), else from the store's latest snapshots;
- ``/trending``: the store's trending query (``schemas/queries/trending.sql``);
- ``/alerts``: from the store, else the alerts this ``track`` worker raised;
- ``/stats`` (counters, engine stats, the webhook's queue), ``/healthz``.

``topictrack topics`` / ``trending`` / ``alerts`` use it while a worker holds
the chdb directory.
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


class BadRequest(ValueError):
    """A query parameter that does not parse (answered 400)."""


def trending_payload(p: Pipeline, q: Any) -> dict[str, Any]:
    """``/trending?stream=&window=15m&baseline=24h&min_support=5&limit=10``."""
    from streamer import alert_queries
    from streamer.durations import parse_duration

    if p.store is None:
        raise LookupError("this worker has no store (trending is computed by a worker with sink)")
    try:
        window = parse_duration(q.get("window", "15m"))
        baseline = parse_duration(q.get("baseline", "24h"))
        support = int(q.get("min_support", alert_queries.DEFAULT_MIN_SUPPORT))
        limit = max(1, min(int(q.get("limit", "10")), 1000))
        alert_queries.check_trend_windows(window, baseline, support)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    stream = q.get("stream") or "default"
    rows = alert_queries.trending(p.store, stream, window, baseline, support, limit)
    return {"trending": rows, "stream": stream, "window_s": window, "baseline_s": baseline}


def alerts_payload(p: Pipeline, q: Any) -> dict[str, Any]:
    """``/alerts?since=1h&stream=&kind=&limit=``: oldest first (``since``: event time
    before the newest alert)."""
    from streamer import alert_queries
    from streamer.durations import parse_duration

    try:
        since = parse_duration(q["since"]) if q.get("since") else None
        limit = max(1, min(int(q.get("limit", "1000")), 10000))
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    stream, kind = q.get("stream") or None, q.get("kind") or None
    if kind and kind not in alert_queries.ALERT_KINDS:
        raise BadRequest(f"kind must be one of {', '.join(alert_queries.ALERT_KINDS)}")
    if p.store is not None:
        rows = alert_queries.alerts(p.store, since, stream, kind, limit)
        return {"alerts": rows, "source": "store"}
    rows = [
        a
        for a in p.runtime.alerts
        if (stream is None or a["stream"] == stream) and (kind is None or a["kind"] == kind)
    ]
    if since is not None and rows:
        newest = max(a["window_end"] for a in rows)
        rows = [a for a in rows if a["window_end"] >= newest - since]
    rows.sort(key=lambda a: (a["window_end"], a["created_at"], a["alert_id"]))
    return {"alerts": rows[-limit:], "source": "engine"}


def register(p: Pipeline) -> None:
    """Add the API routes to the pipeline's app."""
    app = p.app

    @app.page("/healthz")
    async def healthz(self, request):
        ok = p.runtime.ready
        return self.json({"ok": ok, "agents": sorted(p.settings.agents)}, status=200 if ok else 503)

    @app.page("/stats")
    async def stats(self, request):
        body = p.runtime.stats()
        sender = p.extra.get("webhook")
        if sender is not None:
            body["webhook"] = sender.stats()
        return self.json(body)

    async def answer(view, payload, request):
        loop = asyncio.get_running_loop()
        try:
            # Store reads block (chdb is in process): run them off the loop.
            body = await loop.run_in_executor(None, payload, p, request.query)
        except BadRequest as exc:
            return view.json({"error": str(exc)}, status=400)
        except LookupError as exc:
            return view.json({"error": str(exc)}, status=404)
        return view.json(body)

    @app.page("/trending")
    async def trending(self, request):
        return await answer(self, trending_payload, request)

    @app.page("/alerts")
    async def alerts(self, request):
        return await answer(self, alerts_payload, request)

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
