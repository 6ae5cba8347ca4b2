"""The HTTP routes, on any aiohttp application: ``/api/v1/...``, the page, health, metrics.

One table, :data:`ROUTES`, declares every versioned route with its typed
parameters; :func:`add_routes` mounts it (a worker on Faust's web server,
``topictrack serve`` on a plain aiohttp app) and :mod:`streamer.api.openapi`
documents the same table. Besides it:

- ``/`` the dashboard page, ``/static/...`` its files (no CDN);
- ``/healthz`` (200 when ready, else 503) and ``/metrics`` (Prometheus);
- the old unversioned ``/topics``, ``/trending``, ``/alerts``, ``/stats``
  redirect (308) to their ``/api/v1`` routes.

Store reads block (chdb runs in process), so those handlers run in a
thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from streamer.api import payloads
from streamer.api.alert_feed import feed_for
from streamer.api.context import ApiContext, Unavailable
from streamer.api.ingest import MAX_BODY_BYTES, BodyError, split_body
from streamer.api.openapi import document
from streamer.api.params import BadRequest, parse
from streamer.api.spec import API, ROUTES, Route
from streamer.store import StoreError

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Most alert feeds (SSE connections) one process serves at once.
MAX_FEEDS = 64
#: Seconds between the feed's looks for new alerts, and between keep-alive comments.
FEED_POLL_S = 1.0
FEED_KEEPALIVE_S = 15.0


def _finite(value: Any) -> Any:
    """The value with NaN and infinities as None (JSON has no such numbers)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def json_response(body: Any, status: int = 200) -> web.Response:
    try:
        text = json.dumps(body, ensure_ascii=False, allow_nan=False, default=str)
    except ValueError:
        text = json.dumps(_finite(body), ensure_ascii=False, default=str)
    return web.Response(text=text, status=status, content_type="application/json")


def error(status: int, message: str) -> web.Response:
    return json_response({"error": message}, status=status)


async def _answer(compute: Callable[[], Awaitable[Any]]) -> web.Response:
    """Run ``compute`` and map our exceptions to statuses."""
    try:
        return json_response(await compute())
    except BadRequest as exc:
        return error(400, str(exc))
    except payloads.NotFound as exc:
        return error(404, exc.args[0] if exc.args else "not found")
    except Unavailable as exc:
        return error(409, str(exc))
    except BodyError as exc:
        return error(exc.status, str(exc))
    except StoreError as exc:
        return error(503, f"store unreachable, retrying: {exc}")


def _get_handler(ctx: ApiContext, route: Route) -> Callable[[web.Request], Awaitable[Any]]:
    specs = route.params + route.path_params

    async def handler(request: web.Request) -> web.Response:
        async def compute() -> Any:
            values = parse({**request.query, **request.match_info}, specs)
            if asyncio.iscoroutinefunction(route.payload):
                return await route.payload(ctx, values)
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, route.payload, ctx, values)

        return await _answer(compute)

    return handler


async def read_body(request: web.Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, or :class:`BodyError` (413) as soon as it passes ``limit`` bytes."""
    if (request.content_length or 0) > limit:
        raise BodyError(f"body larger than {limit} bytes", status=413)
    chunks, total = [], 0
    while chunk := await request.content.read(64 * 1024):
        total += len(chunk)
        if total > limit:
            raise BodyError(f"body larger than {limit} bytes", status=413)
        chunks.append(chunk)
    return b"".join(chunks)


def _assign_handler(ctx: ApiContext) -> Callable[[web.Request], Awaitable[Any]]:
    async def handler(request: web.Request) -> web.Response:
        async def compute() -> Any:
            raw = await read_body(request)
            try:
                body = json.loads(raw or b"null")
            except (ValueError, UnicodeDecodeError):
                raise BadRequest("body is not JSON") from None
            return await payloads.assign(ctx, body)

        return await _answer(compute)

    return handler


def _ingest_handler(ctx: ApiContext) -> Callable[[web.Request], Awaitable[Any]]:
    async def handler(request: web.Request) -> web.Response:
        async def compute() -> Any:
            if ctx.live is None or "embed" not in ctx.agents:
                raise Unavailable(
                    "ingest needs a worker that consumes events (embed): this process "
                    "only reads; POST to a `topictrack run` or `worker --agents embed`"
                )
            batch = split_body(await read_body(request))
            if batch.accepted:
                await ctx.live.ingest(batch.accepted)
            return {
                "accepted": len(batch.accepted),
                "rejected": batch.rejected,
                "ids": batch.ids,
            }

        return await _answer(compute)

    return handler


def _feed_handler(
    ctx: ApiContext, route: Route, stopping: list[bool]
) -> Callable[[web.Request], Awaitable[Any]]:
    """The SSE handler; it ends its stream once ``stopping[0]`` is set (the server's
    shutdown), so an open page never holds a stopping worker up."""
    open_feeds = [0]

    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            v = parse(request.query, route.params)
            feed = feed_for(ctx.live, ctx.agents, ctx.store)
        except BadRequest as exc:
            return error(400, str(exc))
        except LookupError as exc:
            return error(409, str(exc))
        if open_feeds[0] >= MAX_FEEDS:
            return error(429, f"too many alert feeds open (at most {MAX_FEEDS})")
        # A reconnecting EventSource sends the id of the last event it got.
        cursor = request.headers.get("Last-Event-ID") or v["after"] or None
        loop = asyncio.get_running_loop()
        if cursor is None:
            cursor = await loop.run_in_executor(None, feed.cursor)
        resp = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        open_feeds[0] += 1
        try:
            await resp.prepare(request)
            await resp.write(b"retry: 2000\n: topictrack alert feed\n\n")
            deadline = loop.time() + v["timeout"]
            quiet_since = loop.time()
            while loop.time() < deadline and not stopping[0]:
                try:
                    items, cursor = await loop.run_in_executor(None, feed.after, cursor)
                except StoreError:
                    items = []  # the store is back soon: keep the stream open
                for item_id, alert in items:
                    if (v["stream"] and alert["stream"] != v["stream"]) or (
                        v["kind"] and alert["kind"] != v["kind"]
                    ):
                        continue
                    data = json.dumps(_finite(alert), ensure_ascii=False, default=str)
                    await resp.write(f"id: {item_id}\nevent: alert\ndata: {data}\n\n".encode())
                    quiet_since = loop.time()
                if loop.time() - quiet_since >= FEED_KEEPALIVE_S:
                    # Moves the client's position past filtered-out alerts too.
                    await resp.write(f"id: {cursor}\n: keep-alive\n\n".encode())
                    quiet_since = loop.time()
                await asyncio.sleep(FEED_POLL_S)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            open_feeds[0] -= 1
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            await resp.write_eof()
        return resp

    return handler


def _redirect(target: str) -> Callable[[web.Request], Awaitable[Any]]:
    async def handler(request: web.Request) -> web.Response:
        qs = request.query_string
        raise web.HTTPPermanentRedirect(target + (f"?{qs}" if qs else ""))

    return handler


def _authorised(request: web.Request, token: str) -> bool:
    given = ""
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        given = auth[len("Bearer ") :].strip()
    else:
        # EventSource cannot send headers: the page passes the token in the URL.
        given = request.query.get("access_token", "")
    return hmac.compare_digest(given.encode(), token.encode())


def _needs_token(path: str) -> bool:
    return (path.startswith("/api/") and path != f"{API}/openapi.json") or path == "/metrics"


def security_middleware(ctx: ApiContext) -> Any:
    """Bearer token on the API and metrics when one is set; CORS for one origin if asked."""
    sec = ctx.security

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        cors = bool(sec.cors_origin) and origin == sec.cors_origin
        if request.method == "OPTIONS" and cors:
            resp: web.StreamResponse = web.Response(status=204)
        elif sec.token and _needs_token(request.path) and not _authorised(request, sec.token):
            resp = error(401, "missing or wrong bearer token (Authorization: Bearer ...)")
        else:
            resp = await handler(request)
        if cors:
            resp.headers["Access-Control-Allow-Origin"] = origin or ""
            resp.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
            resp.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            resp.headers["Vary"] = "Origin"
        return resp

    return middleware


def add_routes(app: web.Application, ctx: ApiContext) -> None:
    """Mount the API, the page and its files on ``app`` (before it starts)."""
    registry = ctx.registry or CollectorRegistry()
    app.middlewares.append(security_middleware(ctx))
    stopping = [False]

    async def on_shutdown(app: web.Application) -> None:
        stopping[0] = True  # runs before aiohttp waits for open requests to finish

    app.on_shutdown.append(on_shutdown)
    for route in ROUTES:
        path = API + route.path
        if route.path == "/alerts/events":
            app.router.add_get(path, _feed_handler(ctx, route, stopping))
        elif route.path == "/assign":
            app.router.add_post(path, _assign_handler(ctx))
        elif route.path == "/events":
            app.router.add_post(path, _ingest_handler(ctx))
        else:
            app.router.add_get(path, _get_handler(ctx, route))

    spec = document()

    async def openapi(request: web.Request) -> web.Response:
        return json_response(spec)

    async def healthz(request: web.Request) -> web.Response:
        # A process without stages (serve) is ready when it has its store.
        ok = ctx.live.ready if ctx.live is not None else ctx.store is not None
        return json_response({"ok": ok, "agents": sorted(ctx.agents)}, 200 if ok else 503)

    async def metrics(request: web.Request) -> web.Response:
        loop = asyncio.get_running_loop()
        body = await loop.run_in_executor(None, generate_latest, registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app.router.add_get(f"{API}/openapi.json", openapi)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC_DIR)
    for old in ("topics", "trending", "alerts", "stats"):
        app.router.add_get(f"/{old}", _redirect(f"{API}/{old}"))
