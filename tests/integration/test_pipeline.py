"""End to end: real tansu broker, real worker (real model), real chdb / ClickHouse server.

Produces the first 300 CrisisLexT26 events plus malformed lines, then checks
that every valid event is stored exactly once, topics have keywords, every
malformed line is dead-lettered, and no broker process is left behind.
"""

from __future__ import annotations

import json

import pytest
from integration_helpers import Worker, cli, tansu_on

from streamer.store import open_store, topic_queries

MALFORMED = [
    b"{this is not json",
    b'{"id": "m-no-text", "ts": 1337339071}',
    b'{"id": "m-bad-ts", "ts": "last tuesday", "text": "when?"}',
    b'{"id": 12345, "ts": 1337339071, "text": "id must be a string"}',
    b'{"id": "m-text-list", "ts": 1337339071, "text": ["not", "a", "string"]}',
    b'{"id": "m-empty", "ts": 1337339071, "text": ""}',
    b"\xff\xfe\x00 binary junk",
]


def _pipeline(tmp_path, crisis_lines, store_url: str) -> None:
    valid_ids = {json.loads(line)["id"] for line in crisis_lines}
    assert len(valid_ids) == len(crisis_lines)
    # A producer file with the malformed lines interleaved at known places.
    mixed = list(crisis_lines)
    for k, bad in enumerate(MALFORMED):
        mixed.insert(10 + 40 * k, bad)
    bad_lines = sorted(i + 1 for i, line in enumerate(mixed) if line in MALFORMED)
    src = tmp_path / "mixed.jsonl"
    src.write_bytes(b"\n".join(mixed) + b"\n")
    data = tmp_path / "data"

    with Worker(data, store=store_url) as w:
        # The producer validates: it sends the 300 good ones, reports the rest.
        res = cli("produce", str(src), "--data-dir", str(data), "--quiet")
        assert res.returncode == 1, res.stdout + res.stderr
        assert f"sent {len(crisis_lines)} event(s)" in res.stdout
        assert f"rejected {len(MALFORMED)}" in res.stdout
        for n in bad_lines:
            assert f"line {n}:" in res.stdout
        # A careless producer sends them anyway: the worker must dead-letter them.
        from kafka import KafkaProducer

        prod = KafkaProducer(bootstrap_servers=w.broker)
        for bad in MALFORMED:
            prod.send("events", key=b"default", value=bad)
        prod.flush()
        prod.close()

        w.wait_for(
            lambda c: (
                c.get("sink.events", 0) >= len(crisis_lines)
                and c.get("sink.dead_letters", 0) >= len(MALFORMED)
            ),
            what="all events stored and dead-lettered",
        )
        # The CPU default runtime embeds here (this test covers it end to end).
        assert "onnx float32 on cpu" in w.get("/api/v1/stats")["model"]
        api = w.get("/api/v1/topics?limit=50")
        assert api["source"] == "engine" and api["topics"]
        assert all(t["keywords"] for t in api["topics"])
        # chdb is held by the worker: `topics` must ask it over HTTP.
        shown = cli("topics", "--data-dir", str(data))
        assert shown.returncode == 0, shown.stderr
        assert "topics from worker pid" in shown.stdout
        broker = w.broker
    assert w.proc.returncode == 0, w.output()
    assert tansu_on(broker) == [], "the embedded broker outlived the worker"
    assert not list((data / "workers").glob("*.json")), "stale runtime file"

    with open_store(store_url, data) as store:
        rows = store.query("SELECT event_id, topic_id, version FROM events FINAL")
        assert len(rows) == len(crisis_lines)
        assert {r["event_id"] for r in rows} == valid_ids  # each exactly once, nothing else
        raw_dupes = store.query(
            "SELECT event_id, version, count() AS n FROM events "
            "GROUP BY event_id, version HAVING n > 1"
        )
        assert raw_dupes == []  # a clean run inserts nothing twice
        assigned = [r for r in rows if r["topic_id"] >= 0]
        # Outliers may stay unassigned (-1) by design; most must have a topic.
        assert len(assigned) >= 0.5 * len(rows)
        topic_ids = {r["topic_id"] for r in store.query("SELECT DISTINCT topic_id FROM topics")}
        assert {r["topic_id"] for r in assigned} <= topic_ids
        latest = topic_queries.latest_topics(store, "default", limit=1000, include_merged=True)
        assert latest and all(t["keywords"] for t in latest)
        dead = store.query("SELECT reason, stage, raw FROM dead_letters FINAL")
        assert len(dead) == len(MALFORMED)
        assert {d["stage"] for d in dead} == {"validate"}
        assert all(d["reason"] for d in dead)
        raws = {d["raw"] for d in dead}
        assert "{this is not json" in raws and '{"id": "m-no-text", "ts": 1337339071}' in raws

    if store_url.startswith("chdb"):
        # No worker now: `topics` reads the store directly.
        shown = cli("topics", "--data-dir", str(data), "--json")
        assert shown.returncode == 0, shown.stderr
        body = json.loads(shown.stdout)
        assert body["source"].startswith("chdb:") and body["topics"]


def test_pipeline_chdb(tmp_path, crisis_lines):
    _pipeline(tmp_path, crisis_lines, f"chdb:{tmp_path / 'data' / 'chdb'}")


def test_pipeline_clickhouse_server(tmp_path, crisis_lines, clickhouse_url):
    _pipeline(tmp_path, crisis_lines, clickhouse_url)


def test_restart_restores_topics_from_checkpoint(tmp_path, crisis_lines):
    data = tmp_path / "data"
    first, second = crisis_lines[:120], crisis_lines[120:200]
    (tmp_path / "a.jsonl").write_bytes(b"\n".join(first))
    (tmp_path / "b.jsonl").write_bytes(b"\n".join(second))
    with Worker(data) as w:
        assert cli("produce", str(tmp_path / "a.jsonl"), "--data-dir", str(data)).returncode == 0
        w.wait_for(lambda c: c.get("sink.events", 0) >= len(first), what="first half stored")
        before = {t["topic_id"]: t for t in w.get("/api/v1/topics?limit=1000")["topics"]}
    assert before and w.proc.returncode == 0
    with Worker(data) as w:
        # Restored from the checkpoint before any new event arrives.
        after = {t["topic_id"]: t for t in w.get("/api/v1/topics?limit=1000")["topics"]}
        assert set(after) == set(before)
        assert all(after[k]["size"] == before[k]["size"] for k in before)
        assert cli("produce", str(tmp_path / "b.jsonl"), "--data-dir", str(data)).returncode == 0
        w.wait_for(lambda c: c.get("sink.events", 0) >= len(second), what="second half stored")
        grown = {t["topic_id"]: t["size"] for t in w.get("/api/v1/topics?limit=1000")["topics"]}
    # Old topics kept their ids and kept growing rather than being born again.
    assert sum(grown.get(k, 0) for k in before) > sum(t["size"] for t in before.values())
    with open_store(f"chdb:{data / 'chdb'}") as store:
        n = store.query("SELECT count() AS n FROM events FINAL")[0]["n"]
        assert n == len(first) + len(second)


@pytest.mark.timeout(600)
def test_demo_small(tmp_path):
    res = cli("demo", "--scale", "0.06", "--data-dir", str(tmp_path / "data"), timeout=500)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "summary" in res.stdout and "events stored" in res.stdout
    banner = next(ln for ln in res.stderr.splitlines() if ln.startswith("topictrack demo:"))
    broker = banner.split("broker ")[1].split()[0].rstrip(";,")
    assert tansu_on(broker) == []


def test_stages_as_separate_workers(tmp_path, crisis_lines):
    """embed, track and sink in three processes against one (external) broker."""
    import subprocess
    import sys
    import time

    from integration_helpers import REPO, free_port

    from streamer.kafka.broker import EmbeddedBroker

    lines = crisis_lines[:100]
    (tmp_path / "in.jsonl").write_bytes(b"\n".join(lines))
    store_url = f"chdb:{tmp_path / 'chdb'}"
    with EmbeddedBroker() as b:
        url = f"kafka://{b.bootstrap_servers}"
        ports = {a: free_port() for a in ("embed", "track", "sink")}
        procs = {}
        logs = {}
        try:
            for agent, port in ports.items():
                logs[agent] = open(tmp_path / f"{agent}.log", "w")  # noqa: SIM115
                procs[agent] = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "streamer.cli",
                        "worker",
                        "--agents",
                        agent,
                        "--broker",
                        url,
                        "--store",
                        store_url,
                        "--data-dir",
                        str(tmp_path / agent),
                        "--web-port",
                        str(port),
                    ],
                    cwd=REPO,
                    stdout=logs[agent],
                    stderr=subprocess.STDOUT,
                )
            res = cli("produce", str(tmp_path / "in.jsonl"), "--broker", url, "--quiet")
            assert res.returncode == 0, res.stdout + res.stderr

            def stats(agent):
                import urllib.request

                with urllib.request.urlopen(
                    f"http://127.0.0.1:{ports[agent]}/api/v1/stats", timeout=5
                ) as r:
                    return json.load(r)["counters"]

            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                try:
                    if stats("sink").get("sink.events", 0) >= len(lines):
                        break
                except OSError:
                    pass
                for agent, proc in procs.items():
                    assert proc.poll() is None, (tmp_path / f"{agent}.log").read_text()[-3000:]
                time.sleep(0.5)
            else:
                raise AssertionError(
                    "\n".join((tmp_path / f"{a}.log").read_text()[-2000:] for a in procs)
                )
            assert stats("embed").get("embed.embedded") == len(lines)
            assert stats("track").get("track.assigned") == len(lines)
            shown = cli("topics", "--data-dir", str(tmp_path / "track"), "--json")
            assert json.loads(shown.stdout)["source"].startswith("worker pid")
        finally:
            for proc in procs.values():
                proc.send_signal(2)
            for agent, proc in procs.items():
                try:
                    assert proc.wait(60) == 0, (tmp_path / f"{agent}.log").read_text()[-3000:]
                finally:
                    logs[agent].close()
    with open_store(store_url) as store:
        assert store.query("SELECT count() AS n FROM events FINAL")[0]["n"] == len(lines)
