"""The API's routes over a live worker's state, without a store: statuses, redirects,
the token, CORS, ingest and the live alert feed."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from streamer.api import ApiContext, Security, Unavailable, add_routes
from streamer.api import payloads as pl
from streamer.api.params import BadRequest, parse
from streamer.api.spec import ROUTES
from tests.alert_fixtures import make_alert


def values(path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    route = next(r for r in ROUTES if r.path == path)
    return parse(query or {}, route.params + route.path_params)


class FakeWorker:
    """A :class:`streamer.api.LiveWorker` with fixed topics and alerts."""

    def __init__(self, alerts: list[dict[str, Any]], ready: bool = True) -> None:
        self.alerts = alerts
        self.ready = ready
        self.ingested: list[tuple[str, bytes]] = []

    def stats(self) -> dict[str, Any]:
        return {"counters": {"track.assigned": 7}, "streams": {"a": {"last_ts": 1000.0}}}

    def topic_summaries(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "a": [{"topic_id": 1, "weight": 2.0, "size": 5, "label": "rail strike",
                   "keywords": ["rail", "strike"]}],
            "b": [{"topic_id": 2, "weight": 9.0, "size": 3, "label": "phone",
                   "keywords": ["phone"]}],
        }  # fmt: skip

    def recent_alerts(self) -> list[dict[str, Any]]:
        return list(self.alerts)

    def alert_log(self) -> tuple[int, int, list[dict[str, Any]]]:
        return 77, len(self.alerts), list(self.alerts)

    async def assign(self, stream: str, texts: list[str], k: int) -> list[dict[str, Any]]:
        return [{"text": t, "topic_id": 1, "topics": [{"topic_id": 1, "probability": 0.9}]}
                for t in texts]  # fmt: skip

    async def hierarchy(self, stream: str) -> dict[str, Any]:
        raise Unavailable("no engine for that stream")

    async def ingest(self, events: list[tuple[str, bytes]]) -> int:
        self.ingested.extend(events)
        return len(events)


def track_context(**kw: Any) -> ApiContext:
    alerts = [
        make_alert(1, end=1000.0),
        make_alert(2, "burst", end=5000.0),
        make_alert(3, end=8000.0),
    ]
    return ApiContext(agents=frozenset({"embed", "track"}), live=FakeWorker(alerts), **kw)


def test_payloads_without_a_store_use_the_workers_own_state():
    ctx = track_context()
    body = pl.alerts(ctx, values("/alerts"))
    assert body["source"] == "engine" and [a["topic_id"] for a in body["alerts"]] == [1, 2, 3]
    assert body["cursor"] == "L77.3"  # the live feed's position: follow from here
    assert [
        a["topic_id"] for a in pl.alerts(ctx, values("/alerts", {"since": "30m"}))["alerts"]
    ] == [3]
    assert [
        a["topic_id"] for a in pl.alerts(ctx, values("/alerts", {"kind": "burst"}))["alerts"]
    ] == [2]
    assert [a["topic_id"] for a in pl.alerts(ctx, values("/alerts", {"limit": "2"}))["alerts"]] == [
        2,
        3,
    ]
    with pytest.raises(BadRequest, match="duration"):
        values("/alerts", {"since": "yesterday"})
    with pytest.raises(BadRequest, match="kind"):
        values("/alerts", {"kind": "boom"})
    with pytest.raises(BadRequest, match="limit must be an integer"):
        values("/alerts", {"limit": "ten"})
    with pytest.raises(BadRequest, match="at most 10000"):
        values("/alerts", {"limit": "10001"})
    with pytest.raises(Unavailable, match="needs the store"):
        pl.trending(ctx, values("/trending"))
    with pytest.raises(Unavailable, match="needs the store"):
        pl.timeline(ctx, values("/timeline"))
    with_store = ApiContext(agents=ctx.agents, store=object(), live=ctx.live)  # type: ignore[arg-type]
    with pytest.raises(BadRequest, match="whole number"):
        pl.trending(with_store, values("/trending", {"window": "90s"}))
    streams = pl.streams(ctx, values("/streams"))["streams"]
    assert streams == [
        {"stream": "a", "events": 0, "last_ts": 1000, "now_ts": 960, "unassigned_share": 0.0}
    ]


def test_topics_and_search_come_from_the_live_engines():
    ctx = track_context()
    assert [t["topic_id"] for t in pl.topics(ctx, values("/topics"))["topics"]] == [2, 1]
    assert [
        t["topic_id"] for t in pl.topics(ctx, values("/topics", {"stream": "a"}))["topics"]
    ] == [1]
    assert [
        t["topic_id"] for t in pl.search(ctx, values("/search", {"q": "STRIKE"}))["topics"]
    ] == [1]
    assert pl.search(ctx, values("/search", {"q": "nothing"}))["topics"] == []
    detail = pl.topic(ctx, values("/topics/{topic_id}", {"stream": "a", "topic_id": "1"}))
    assert detail["topic"]["label"] == "rail strike" and detail["source"] == "engine"
    with pytest.raises(pl.NotFound):
        pl.topic(ctx, values("/topics/{topic_id}", {"stream": "a", "topic_id": "2"}))
    no_source = ApiContext(agents=frozenset({"embed"}))
    assert pl.topics(no_source, values("/topics")) == {
        "topics": [],
        "stories": [],
        "source": "store",
    }


def test_topics_can_be_grouped_and_filtered_by_story():
    class StoryWorker(FakeWorker):
        def topic_summaries(self) -> dict[str, list[dict[str, Any]]]:
            return {
                "a": [
                    {"topic_id": 4, "weight": 1.0, "size": 9, "story_id": 1},
                    {"topic_id": 1, "weight": 5.0, "size": 30, "story_id": 1},
                    {"topic_id": 2, "weight": 3.0, "size": 12, "story_id": 2},
                    {"topic_id": 3, "weight": 0.5, "size": 6},  # written before stories
                ]
            }

    ctx = ApiContext(agents=frozenset({"track"}), live=StoryWorker([]))
    body = pl.topics(ctx, values("/topics"))
    assert [(g["story_id"], g["topic_ids"], g["size"]) for g in body["stories"]] == [
        (1, [1, 4], 39),
        (2, [2], 12),
        (3, [3], 6),
    ]
    one = pl.topics(ctx, values("/topics", {"story": "1"}))
    assert [t["topic_id"] for t in one["topics"]] == [1, 4]
    with pytest.raises(BadRequest, match="story"):
        values("/topics", {"story": "first"})


def test_assign_bodies_are_checked():
    for bad, msg in [
        ([], "JSON object"),
        ({"texts": []}, "non-empty"),
        ({"texts": ["x"] * 65}, "at most 64"),
        ({"texts": ["  "]}, "non-blank"),
        ({"texts": ["x" * 5001]}, "longer than 5000"),
        ({"texts": ["x"], "k": 0}, "k must be"),
        ({"texts": ["x"], "k": True}, "k must be"),
        ({"texts": ["x"], "stream": ""}, "stream must be"),
    ]:
        with pytest.raises(BadRequest, match=msg):
            pl.assign_request(bad)
    assert pl.assign_request({"texts": ["a b"]}) == ("default", ["a b"], 3)


def run_client(ctx: ApiContext, scenario) -> None:
    async def main() -> None:
        app = web.Application()
        add_routes(app, ctx)
        async with TestClient(TestServer(app)) as client:
            await scenario(client)

    asyncio.run(main())


def test_routes_answer_json_with_400_404_409_and_redirect_the_old_paths():
    ctx = track_context()

    async def scenario(client: TestClient) -> None:
        r = await client.get("/api/v1/alerts", params={"kind": "burst"})
        assert r.status == 200 and [a["topic_id"] for a in (await r.json())["alerts"]] == [2]
        r = await client.get("/api/v1/alerts", params={"since": "soon"})
        assert r.status == 400 and "duration" in (await r.json())["error"]
        r = await client.get("/api/v1/trending")
        assert r.status == 409 and "needs the store" in (await r.json())["error"]
        r = await client.get("/api/v1/topics/99", params={"stream": "a"})
        assert r.status == 404
        r = await client.get("/api/v1/topics/x")
        assert r.status == 400 and "integer" in (await r.json())["error"]
        r = await client.get("/api/v1/hierarchy")
        assert r.status == 409 and "no engine" in (await r.json())["error"]
        r = await client.get("/api/v1/stats")
        assert (await r.json())["counters"] == {"track.assigned": 7}
        r = await client.get("/healthz")
        assert r.status == 200 and (await r.json()) == {"ok": True, "agents": ["embed", "track"]}
        ctx.live.ready = False  # type: ignore[union-attr]
        assert (await client.get("/healthz")).status == 503
        r = await client.get("/alerts", params={"kind": "new"}, allow_redirects=False)
        assert r.status == 308 and r.headers["Location"] == "/api/v1/alerts?kind=new"
        r = await client.get("/trending?stream=a")  # followed: same answer as the new path
        assert r.status == 409
        r = await client.post("/api/v1/assign", json={"texts": ["rail strike today"]})
        assert r.status == 200 and (await r.json())["results"][0]["topic_id"] == 1
        r = await client.post("/api/v1/assign", data=b"{nope")
        assert r.status == 400
        r = await client.get("/api/v1/openapi.json")
        assert (await r.json())["openapi"].startswith("3.")
        r = await client.get("/")
        assert r.status == 200 and "<title>topictrack</title>" in await r.text()
        r = await client.get("/static/vendor/uplot/uPlot.iife.min.js")
        assert r.status == 200
        r = await client.get("/metrics")
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")

    run_client(ctx, scenario)


def test_ingest_validates_like_produce_and_sends_the_valid_events():
    ctx = track_context()
    worker = ctx.live

    async def scenario(client: TestClient) -> None:
        body = (
            b'{"id":"1","ts":1,"text":"hi","stream":"s"}\n{"id":2}\n\n{"id":"3","ts":2,"text":"yo"}'
        )
        r = await client.post("/api/v1/events", data=body)
        got = await r.json()
        assert r.status == 200 and got["accepted"] == 2 and got["ids"] == ["1", "3"]
        assert got["rejected"] == [{"line": 2, "reason": "event: 'ts' is a required property"}]
        assert [s for s, _ in worker.ingested] == ["s", "default"]  # type: ignore[union-attr]
        r = await client.post("/api/v1/events", data=b"x" * (1024 * 1024 + 1))
        assert r.status == 413
        r = await client.post("/api/v1/events", data=b"")
        assert r.status == 400

    run_client(ctx, scenario)
    read_only = ApiContext(agents=frozenset(), live=None)

    async def refused(client: TestClient) -> None:
        r = await client.post("/api/v1/events", json={"id": "1", "ts": 1, "text": "x"})
        assert r.status == 409 and "only reads" in (await r.json())["error"]
        r = await client.post("/api/v1/assign", json={"texts": ["x"]})
        assert r.status == 409

    run_client(read_only, refused)


def test_a_token_guards_the_api_and_cors_answers_one_origin_only():
    ctx = track_context(security=Security(token="s3cret", cors_origin="https://dash.example"))

    async def scenario(client: TestClient) -> None:
        assert (await client.get("/api/v1/stats")).status == 401
        assert (await client.get("/metrics")).status == 401
        bad = {"Authorization": "Bearer nope"}
        assert (await client.get("/api/v1/stats", headers=bad)).status == 401
        ok = {"Authorization": "Bearer s3cret"}
        assert (await client.get("/api/v1/stats", headers=ok)).status == 200
        assert (await client.get("/api/v1/stats?access_token=s3cret")).status == 200
        assert (await client.get("/healthz")).status == 200  # health checks need no token
        assert (await client.get("/")).status == 200  # the page asks for the token itself
        assert (await client.get("/api/v1/openapi.json")).status == 200
        r = await client.get("/api/v1/stats", headers={**ok, "Origin": "https://dash.example"})
        assert r.headers["Access-Control-Allow-Origin"] == "https://dash.example"
        r = await client.get("/api/v1/stats", headers={**ok, "Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in r.headers
        r = await client.options("/api/v1/assign", headers={"Origin": "https://dash.example"})
        assert r.status == 204 and "POST" in r.headers["Access-Control-Allow-Methods"]

    run_client(ctx, scenario)
    plain = track_context()

    async def no_cors(client: TestClient) -> None:
        r = await client.get("/api/v1/stats", headers={"Origin": "https://dash.example"})
        assert r.status == 200 and "Access-Control-Allow-Origin" not in r.headers

    run_client(plain, no_cors)


def read_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for block in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if ": " in line and line[0] != ":"
        )
        if fields.get("event") == "alert":
            out.append((fields["id"], json.loads(fields["data"])))
    return out


def test_the_alert_feed_resumes_after_last_event_id_and_never_repeats():
    ctx = track_context()
    worker = ctx.live

    async def scenario(client: TestClient) -> None:
        r = await client.get("/api/v1/alerts/events", params={"timeout": "1"})
        first = read_events(await r.text())
        assert r.headers["Content-Type"].startswith("text/event-stream")
        assert first == []  # starts at the current position: nothing old is repeated
        r = await client.get("/api/v1/alerts/events", params={"timeout": "1", "after": "L77.1"})
        got = read_events(await r.text())
        assert [(i, a["topic_id"]) for i, a in got] == [("L77.2", 2), ("L77.3", 3)]
        worker.alerts.append(make_alert(4, end=9000.0))  # type: ignore[union-attr]
        r = await client.get(
            "/api/v1/alerts/events",
            params={"timeout": "1", "after": "L77.1"},
            headers={"Last-Event-ID": got[-1][0]},  # the browser's reconnect wins
        )
        assert [a["topic_id"] for _, a in read_events(await r.text())] == [4]
        r = await client.get("/api/v1/alerts/events", params={"timeout": "1", "after": "L1.0"})
        # A cursor of another process: this process's whole log, once.
        assert [a["topic_id"] for _, a in read_events(await r.text())] == [1, 2, 3, 4]
        r = await client.get(
            "/api/v1/alerts/events", params={"timeout": "1", "after": "L77.0", "kind": "burst"}
        )
        assert [a["topic_id"] for _, a in read_events(await r.text())] == [2]
        assert (await client.get("/api/v1/alerts/events?timeout=0")).status == 400

    run_client(ctx, scenario)
    nothing = ApiContext(agents=frozenset())

    async def no_feed(client: TestClient) -> None:
        assert (await client.get("/api/v1/alerts/events?timeout=1")).status == 409

    run_client(nothing, no_feed)


def test_an_open_alert_feed_does_not_hold_up_shutdown():
    ctx = track_context()

    async def main() -> float:
        app = web.Application()
        add_routes(app, ctx)
        server = TestServer(app)
        client = TestClient(server)
        await client.start_server()
        reader = asyncio.ensure_future(client.get("/api/v1/alerts/events?timeout=3600"))
        await asyncio.sleep(0.5)
        started = asyncio.get_running_loop().time()
        await server.close()  # the server's shutdown: the feed must end by itself
        took = asyncio.get_running_loop().time() - started
        reader.cancel()
        await client.close()
        return took

    assert asyncio.run(main()) < 5.0
