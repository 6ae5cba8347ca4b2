"""Fixtures for integration tests: real tansu, real chdb / ClickHouse server, real model.

Everything here starts real components; each test cleans up its processes
and checks that no broker it started is left running.
"""

from __future__ import annotations

import os
import uuid

import pytest
from integration_helpers import CRISIS


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def crisis_lines() -> list[bytes]:
    """The first 300 events of the labeled CrisisLexT26 stream (skips when absent)."""
    if not CRISIS.exists():
        pytest.skip(f"labeled data not found at {CRISIS} (the shared data folder is not mounted)")
    out = []
    with open(CRISIS, "rb") as f:
        for line in f:
            if line.strip():
                out.append(line.rstrip(b"\n"))
            if len(out) == 300:
                break
    return out


@pytest.fixture(params=["chdb", "server"])
def store(request, tmp_path):
    """A migrated store: chdb in process, and the ClickHouse server when one is set."""
    from streamer.store import open_store

    if request.param == "chdb":
        url = f"chdb:{tmp_path / 'chdb'}"
    else:
        url = request.getfixturevalue("clickhouse_url")
    s = open_store(url)
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def clickhouse_url() -> str:
    """A fresh database on the server named by TOPICTRACK_CLICKHOUSE_URL (skips without it)."""
    url = os.environ.get("TOPICTRACK_CLICKHOUSE_URL")
    if not url:
        if os.environ.get("TOPICTRACK_REQUIRE_CLICKHOUSE") == "1":
            pytest.fail("TOPICTRACK_REQUIRE_CLICKHOUSE=1 but TOPICTRACK_CLICKHOUSE_URL is not set")
        pytest.skip(
            "TOPICTRACK_CLICKHOUSE_URL is not set: no ClickHouse server to test against "
            "(.ci/run starts one and sets it)"
        )
    from clickhouse_driver import Client

    from streamer.config import parse_store_url

    spec = parse_store_url(url)
    db = f"{spec.database}_{uuid.uuid4().hex[:8]}"
    yield f"clickhouse://{spec.host}:{spec.port}/{db}"
    client = Client(spec.host, port=spec.port, user=spec.user, password=spec.password)
    client.execute(f"DROP DATABASE IF EXISTS `{db}`")
    client.disconnect()
