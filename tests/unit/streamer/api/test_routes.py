"""The API's routes and payloads over a live worker's state, without a store."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from streamer.api import ApiContext, add_routes
from streamer.api.routes import BadRequest, alerts_payload, topics_payload, trending_payload
from tests.alert_fixtures import make_alert


class FakeWorker:
    """A :class:`streamer.api.LiveWorker` with fixed topics and alerts."""

    def __init__(self, alerts: list[dict[str, Any]], ready: bool = True) -> None:
        self._alerts = alerts
        self.ready = ready

    def stats(self) -> dict[str, Any]:
        return {"counters": {"track.assigned": 7}}

    def topic_summaries(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "a": [{"topic_id": 1, "weight": 2.0, "size": 5}],
            "b": [{"topic_id": 2, "weight": 9.0, "size": 3}],
        }

    def recent_alerts(self) -> list[dict[str, Any]]:
        return list(self._alerts)


def track_context() -> ApiContext:
    alerts = [
        make_alert(1, end=1000.0),
        make_alert(2, "burst", end=5000.0),
        make_alert(3, end=8000.0),
    ]
    return ApiContext(agents=frozenset({"track"}), live=FakeWorker(alerts))


def test_api_payloads_without_a_store_use_the_workers_own_alerts():
    ctx = track_context()
    body = alerts_payload(ctx, {})
    assert body["source"] == "engine" and [a["topic_id"] for a in body["alerts"]] == [1, 2, 3]
    assert [a["topic_id"] for a in alerts_payload(ctx, {"since": "30m"})["alerts"]] == [3]
    assert [a["topic_id"] for a in alerts_payload(ctx, {"kind": "burst"})["alerts"]] == [2]
    assert [a["topic_id"] for a in alerts_payload(ctx, {"limit": "2"})["alerts"]] == [2, 3]
    with pytest.raises(BadRequest, match="duration"):
        alerts_payload(ctx, {"since": "yesterday"})
    with pytest.raises(BadRequest, match="kind"):
        alerts_payload(ctx, {"kind": "boom"})
    with pytest.raises(BadRequest, match="limit must be an integer"):
        alerts_payload(ctx, {"limit": "ten"})
    with pytest.raises(LookupError, match="no store"):
        trending_payload(ctx, {})
    with_store = ApiContext(agents=ctx.agents, store=object(), live=ctx.live)  # type: ignore[arg-type]
    with pytest.raises(BadRequest, match="whole number"):
        trending_payload(with_store, {"window": "90s"})


def test_topics_come_from_the_live_engines_heaviest_first():
    ctx = track_context()
    assert [t["topic_id"] for t in topics_payload(ctx, {})["topics"]] == [2, 1]
    assert [t["topic_id"] for t in topics_payload(ctx, {"stream": "a"})["topics"]] == [1]
    assert topics_payload(ctx, {"limit": "1"})["topics"] == [
        {"topic_id": 2, "weight": 9.0, "size": 3}
    ]
    no_source = ApiContext(agents=frozenset({"embed"}))
    assert topics_payload(no_source, {}) == {"topics": [], "source": "store"}


def test_routes_answer_json_with_400_404_and_503():
    async def scenario() -> None:
        app = web.Application()
        ctx = track_context()
        add_routes(app, ctx)
        async with TestClient(TestServer(app)) as client:
            r = await client.get("/alerts", params={"kind": "burst"})
            assert r.status == 200 and [a["topic_id"] for a in (await r.json())["alerts"]] == [2]
            r = await client.get("/alerts", params={"since": "soon"})
            assert r.status == 400 and "duration" in (await r.json())["error"]
            r = await client.get("/trending")
            assert r.status == 404 and "no store" in (await r.json())["error"]
            r = await client.get("/stats")
            assert (await r.json())["counters"] == {"track.assigned": 7}
            r = await client.get("/healthz")
            assert r.status == 200 and (await r.json()) == {"ok": True, "agents": ["track"]}
            ctx.live.ready = False  # type: ignore[union-attr]
            assert (await client.get("/healthz")).status == 503

    asyncio.run(scenario())
