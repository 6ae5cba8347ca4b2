"""Property-based fuzzing of ``/api/v1`` from its own OpenAPI document (schemathesis).

A real aiohttp server with the real routes over a real chdb store (filled
with known rows) and a stand-in live worker (so assign, hierarchy and ingest
answer); schemathesis generates requests from ``/api/v1/openapi.json``,
valid and invalid, and every answer must be no 5xx, a documented status,
the documented content type, and match its schema. The number of cases per
operation is bounded (:data:`CASES`). The SSE feed is left out (its answer
is a stream that stays open) and tested in tests/unit/streamer/api/test_routes.py.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from streamer.api import ApiContext, add_routes
from streamer.kafka.broker import free_port
from tests.integration.dashboard_fixtures import fill

#: Generated requests per operation (bounded: the whole run takes well under a minute).
CASES = 40
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


class StandInLive:
    """A live worker without Kafka or a model: assign and hierarchy answer fixed shapes."""

    ready = True

    def __init__(self) -> None:
        self.ingested = 0

    def stats(self) -> dict[str, Any]:
        return {"agents": ["embed", "sink", "track"], "counters": {"embed.received": 1},
                "streams": {"default": {"last_ts": 1_363_000_000.0, "engine": {}}}}  # fmt: skip

    def topic_summaries(self) -> dict[str, list[dict[str, Any]]]:
        return {}

    def recent_alerts(self) -> list[dict[str, Any]]:
        return []

    def alert_log(self) -> tuple[int, int, list[dict[str, Any]]]:
        return 1, 0, []

    async def assign(self, stream: str, texts: list[str], k: int) -> list[dict[str, Any]]:
        return [
            {"text": t[:200], "topic_id": 1, "similarity": 0.5,
             "topics": [{"topic_id": 1, "probability": 0.5, "label": "x", "keywords": ["x"]}]}
            for t in texts
        ]  # fmt: skip

    async def hierarchy(self, stream: str) -> dict[str, Any]:
        return {"children": [], "distance": 0.0}

    async def ingest(self, events: list[tuple[str, bytes]]) -> int:
        self.ingested += len(events)
        return len(events)


@pytest.fixture
def api_url(tmp_path):
    """The routes over a filled chdb store, served on a free port from a thread."""
    from streamer.store import open_store

    store = open_store(f"chdb:{tmp_path / 'chdb'}")
    store.migrate()
    fill(store)
    ctx = ApiContext(agents=frozenset({"embed", "track", "sink"}), store=store, live=StandInLive())
    port = free_port()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    runner_box: list[web.AppRunner] = []

    def serve() -> None:
        asyncio.set_event_loop(loop)
        app = web.Application()
        add_routes(app, ctx)
        runner = web.AppRunner(app)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        runner_box.append(runner)
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(30)
    yield f"http://127.0.0.1:{port}"
    asyncio.run_coroutine_threadsafe(runner_box[0].cleanup(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(30)
    store.close()


def test_fuzz_every_operation_from_the_openapi_document(api_url):
    schema = schemathesis.openapi.from_url(f"{api_url}/api/v1/openapi.json")
    ran: list[str] = []
    for result in schema.get_all_operations():
        op = result.ok()
        if op.path.endswith("/alerts/events"):
            continue

        @given(case=op.as_strategy())
        @settings(
            max_examples=CASES,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(base_url=api_url, checks=CHECKS)

        check()
        ran.append(f"{op.method.upper()} {op.path}")
    assert len(ran) == 16, ran
