"""The worker's HTTP routes, on any aiohttp application.

- ``/topics``: from the live engines when this process runs ``track``
  (freshest), else from the store's latest snapshots;
- ``/trending``: the store's trending query (``schemas/queries/trending.sql``);
- ``/alerts``: from the store, else the alerts this ``track`` worker raised;
- ``/stats`` (counters, engine stats, the webhook's queue), ``/healthz``.

``topictrack topics`` / ``trending`` / ``alerts`` use them while a worker
holds the chdb directory. Store reads block (chdb runs in process), so every
handler runs them in a thread, off the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from streamer.api.context import ApiContext
from streamer.durations import parse_duration
from streamer.store import alert_queries, topic_queries, trending_queries


class BadRequest(ValueError):
    """A query parameter that does not parse (answered 400)."""


Query = Mapping[str, str]


def _int_param(q: Query, name: str, default: int, low: int, high: int) -> int:
    """An integer parameter clamped to ``[low, high]``; 400 when it is not an integer."""
    try:
        value = int(q.get(name, str(default)))
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None
    return max(low, min(value, high))


def topics_payload(ctx: ApiContext, q: Query) -> dict[str, Any]:
    """``/topics?stream=&limit=``: the live engines' topics (``track``) or the store's."""
    stream = q.get("stream") or None
    limit = _int_param(q, "limit", 20, 1, 1000)
    if "track" in ctx.agents and ctx.live is not None:
        out: list[dict[str, Any]] = []
        for s, items in sorted(ctx.live.topic_summaries().items()):
            if stream is None or s == stream:
                out.extend(items)
        out.sort(key=lambda t: (-t["weight"], -t["size"], t["topic_id"]))
        return {"topics": out[:limit], "source": "engine"}
    rows = topic_queries.latest_topics(ctx.store, stream, limit) if ctx.store is not None else []
    return {"topics": rows, "source": "store"}


def trending_payload(ctx: ApiContext, q: Query) -> dict[str, Any]:
    """``/trending?stream=&window=15m&baseline=24h&min_support=5&limit=10``."""
    if ctx.store is None:
        raise LookupError("this worker has no store (trending is computed by a worker with sink)")
    try:
        window = parse_duration(q.get("window", "15m"))
        baseline = parse_duration(q.get("baseline", "24h"))
        support = int(q.get("min_support", trending_queries.DEFAULT_MIN_SUPPORT))
        trending_queries.check_trend_windows(window, baseline, support)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    limit = _int_param(q, "limit", 10, 1, 1000)
    stream = q.get("stream") or "default"
    rows = trending_queries.trending(ctx.store, stream, window, baseline, support, limit)
    return {"trending": rows, "stream": stream, "window_s": window, "baseline_s": baseline}


def alerts_payload(ctx: ApiContext, q: Query) -> dict[str, Any]:
    """``/alerts?since=1h&stream=&kind=&limit=``: oldest first (``since``: event time
    before the newest alert)."""
    try:
        since = parse_duration(q["since"]) if q.get("since") else None
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    limit = _int_param(q, "limit", 1000, 1, 10000)
    stream, kind = q.get("stream") or None, q.get("kind") or None
    if kind and kind not in alert_queries.ALERT_KINDS:
        raise BadRequest(f"kind must be one of {', '.join(alert_queries.ALERT_KINDS)}")
    if ctx.store is not None:
        rows = alert_queries.alerts(ctx.store, since, stream, kind, limit)
        return {"alerts": rows, "source": "store"}
    live = ctx.live.recent_alerts() if ctx.live is not None else []
    rows = [
        a
        for a in live
        if (stream is None or a["stream"] == stream) and (kind is None or a["kind"] == kind)
    ]
    if since is not None and rows:
        newest = max(a["window_end"] for a in rows)
        rows = [a for a in rows if a["window_end"] >= newest - since]
    rows.sort(key=lambda a: (a["window_end"], a["created_at"], a["alert_id"]))
    return {"alerts": rows[-limit:], "source": "engine"}


Payload = Callable[[ApiContext, Query], dict[str, Any]]


def _json_route(ctx: ApiContext, payload: Payload) -> Callable[[web.Request], Awaitable[Any]]:
    """A GET handler answering ``payload(ctx, query)``: 400 for bad parameters, 404 for
    a source this process does not have."""

    async def handler(request: web.Request) -> web.Response:
        loop = asyncio.get_running_loop()
        try:
            body = await loop.run_in_executor(None, payload, ctx, request.query)
        except BadRequest as exc:
            return web.json_response({"error": str(exc)}, status=400)
        except LookupError as exc:
            return web.json_response({"error": str(exc)}, status=404)
        return web.json_response(body)

    return handler


def add_routes(app: web.Application, ctx: ApiContext) -> None:
    """Mount the API on ``app`` (before it starts: aiohttp freezes its router then)."""

    async def healthz(request: web.Request) -> web.Response:
        ok = ctx.live is not None and ctx.live.ready
        return web.json_response(
            {"ok": ok, "agents": sorted(ctx.agents)}, status=200 if ok else 503
        )

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(ctx.live.stats() if ctx.live is not None else {})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/stats", stats)
    app.router.add_get("/topics", _json_route(ctx, topics_payload))
    app.router.add_get("/trending", _json_route(ctx, trending_payload))
    app.router.add_get("/alerts", _json_route(ctx, alerts_payload))
