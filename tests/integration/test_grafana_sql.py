"""Every Grafana panel's SQL, macros expanded, on chdb and the ClickHouse server.

There is no Docker engine here to run Grafana, so this proves the board's
queries instead: each target of ``docker/grafana/dashboards/topictrack.json``
(and the ``stream`` variable's query) has its macros expanded the way
grafana-clickhouse-datasource does, runs against a store filled with known
rows, and must return the rows the panel is meant to show.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.integration.dashboard_fixtures import T0, fill
from tests.integration.integration_helpers import REPO

BOARD = REPO / "docker" / "grafana" / "dashboards" / "topictrack.json"
#: The dashboard's time range in the test: the fixture's half hour of 2013, and
#: the dead letters' arrival (wall clock, now).
FROM, TO = T0 - 3600, 2**31 - 1


def expand(sql: str, stream: str = "default") -> str:
    """grafana-clickhouse-datasource's macros and the ``${stream}`` variable."""
    sql = re.sub(
        r"\$__timeFilter\((\w+)\)",
        lambda m: f"{m.group(1)} >= toDateTime({FROM}) AND {m.group(1)} <= toDateTime({TO})",
        sql,
    )
    sql = sql.replace("$__fromTime", f"toDateTime({FROM})").replace(
        "$__toTime", f"toDateTime({TO})"
    )
    sql = sql.replace("${stream}", stream).replace("$stream", stream)
    assert "$" not in sql, f"unexpanded macro in {sql}"
    return sql


def board() -> dict:
    return json.loads(BOARD.read_text())


def panel_sql() -> dict[str, str]:
    return {p["title"]: t["rawSql"] for p in board()["panels"] for t in p["targets"]}


def test_the_board_is_provisioned_with_our_datasource():
    b = board()
    uids = {t["datasource"]["uid"] for p in b["panels"] for t in p["targets"]}
    ds = (REPO / "docker/grafana/provisioning/datasources/clickhouse.yaml").read_text()
    assert uids == {"topictrack-clickhouse"} and "uid: topictrack-clickhouse" in ds
    titles = " ".join(panel_sql())
    for what in ("Trending", "Timelines", "Alerts", "Dead letters"):
        assert what in titles
    compose = (REPO / "docker/compose.yaml").read_text()
    assert "grafana:" in compose and "serve:" in compose
    assert "./grafana/provisioning:/etc/grafana/provisioning" in compose


def test_every_panel_query_returns_its_rows(store):
    fill(store)
    got = {title: store.query(expand(sql)) for title, sql in panel_sql().items()}
    by = {t.split(" ")[0].rstrip(":"): rows for t, rows in got.items()}
    assert by["Event-time"] == [{"now_ms": (T0 + 29 * 60) * 1000}]
    trending = by["Trending"]
    assert trending[0]["topic_id"] == 1 and trending[0]["keywords"] == "strike, union, rail"
    assert trending[0]["window_count"] >= 5 * 8
    lines = {(r["topic"], r["time"]) for r in by["Timelines"]}
    assert ("#1", T0 + 29 * 60) in lines and ("#2", T0) in lines
    assert [r["kind"] for r in by["Alerts"]] == ["burst", "new"]  # newest first
    dead = by["Dead"]
    assert (dead[0]["stage"], dead[0]["reason"], dead[0]["n"]) == ("validate", "not JSON: x", 3)
    variable = board()["templating"]["list"][0]["query"]
    assert [r["stream"] for r in store.query(expand(variable))] == ["default", "other"]


@pytest.mark.parametrize("stream", ["other", "no-such-stream"])
def test_panels_answer_for_any_stream(store, stream):
    fill(store)
    for sql in panel_sql().values():
        store.query(expand(sql, stream))  # runs; a quiet stream simply has fewer rows
