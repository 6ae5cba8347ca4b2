from __future__ import annotations

from pathlib import Path

import pytest

from streamer.config import Settings, parse_agents, parse_broker_url, parse_store_url


def test_broker_urls():
    assert parse_broker_url("embedded").embedded
    assert parse_broker_url("").embedded
    spec = parse_broker_url("kafka://a:9092,b:19092/")
    assert not spec.embedded
    assert spec.bootstrap_servers == "a:9092,b:19092"


@pytest.mark.parametrize("bad", ["localhost:9092", "kafka://", "kafka://host", "kafka://h:x"])
def test_bad_broker_urls(bad):
    with pytest.raises(ValueError):
        parse_broker_url(bad)


def test_store_urls():
    s = parse_store_url("chdb", "d")
    assert (s.kind, s.path) == ("chdb", Path("d/chdb"))
    assert parse_store_url("chdb:/x/y").path == Path("/x/y")
    assert parse_store_url("chdb://rel/dir").path == Path("rel/dir")
    c = parse_store_url("clickhouse://u:p%40ss@db.example:9001/analytics")
    assert (c.kind, c.host, c.port, c.database, c.user, c.password) == (
        "clickhouse",
        "db.example",
        9001,
        "analytics",
        "u",
        "p@ss",
    )
    d = parse_store_url("clickhouse://h")
    assert (d.port, d.database, d.user) == (9000, "topictrack", "default")
    assert d.display() == "clickhouse://h:9000/topictrack"


@pytest.mark.parametrize("bad", ["mysql://x", "chdb:", "clickhouse:///db", "clickhouse://h/a-b"])
def test_bad_store_urls(bad):
    with pytest.raises(ValueError):
        parse_store_url(bad)


def test_agents_and_app_ids():
    assert parse_agents("all") == {"embed", "track", "sink"}
    assert parse_agents(" sink, embed ") == {"embed", "sink"}
    with pytest.raises(ValueError):
        parse_agents("embed,cook")
    assert Settings().app_id == "topictrack"
    assert Settings(agents=parse_agents("sink,embed")).app_id == "topictrack-embed-sink"
