"""User profiles end to end: real tansu broker, real worker (real model), real chdb.

Produces a slice of the demo stream (whose users follow stories), then
checks that the most active user's profile is in ClickHouse and over HTTP,
that it names no merged topic (a merge moves the mass to the survivor), and
that a restarted worker continues the profile from the checkpoint: the next
posts count once, none is lost or counted twice.
"""

from __future__ import annotations

import json

from integration_helpers import Worker, cli

from streamer.sample_stream import generate
from streamer.store import interest_queries, open_store


def _write(path, events) -> None:
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n")


def _profiles(tmp_path, store_url: str) -> None:
    events = generate(7, scale=0.12)
    # A keen follower of two stories, on top of the demo's casual users.
    user = "keen-fan"
    fan = [e for e in events if e["label"] in ("wildfire", "central-bank")]
    for e in fan[::3]:
        e["user_id"] = user
    first, second = events[: len(events) * 2 // 3], events[len(events) * 2 // 3 :]
    n_first = sum(e["user_id"] == user for e in first)
    n_second = sum(e["user_id"] == user for e in second)
    assert n_first >= 10 and n_second >= 3
    _write(tmp_path / "a.jsonl", first)
    _write(tmp_path / "b.jsonl", second)
    data = tmp_path / "data"
    path = f"/api/v1/users/{user}/interests?stream=default"

    with Worker(data, store=store_url) as w:
        assert cli("produce", str(tmp_path / "a.jsonl"), "--data-dir", str(data)).returncode == 0
        w.wait_for(lambda c: c.get("sink.events", 0) >= len(first), what="first part stored")
        w.wait_for(lambda c: c.get("sink.user_interests", 0) >= 1, what="profiles stored")
        body = w.get(path)
        assert body["posts"] == n_first and body["topics"], body
        assert abs(sum(t["share"] for t in body["topics"]) - 1.0) < 0.05
        assert all(t["label"] for t in body["topics"])
        # The CLI asks the worker (it holds chdb).
        shown = cli("interests", user, "--data-dir", str(data), "--json")
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["topics"][0]["topic_id"] == body["topics"][0]["topic_id"]
        # An unknown user: the worker's 404 is the answer (the CLI must not open the
        # chdb directory the worker holds).
        nobody = cli("interests", "nobody-at-all", "--data-dir", str(data))
        assert nobody.returncode == 1 and "no profile of 'nobody-at-all'" in nobody.stderr
        audience = w.get(f"/api/v1/topics/{body['topics'][0]['topic_id']}/audience?limit=500")
        assert user in [a["user_id"] for a in audience["audience"]]
        recs = w.get(f"/api/v1/users/{user}/recommend?limit=3")
        assert recs["known_user"] and any(item["because"] for item in recs["items"])
    assert w.proc.returncode == 0, w.output()

    with Worker(data, store=store_url) as w:
        assert cli("produce", str(tmp_path / "b.jsonl"), "--data-dir", str(data)).returncode == 0
        w.wait_for(lambda c: c.get("sink.events", 0) >= len(second), what="second part stored")
        w.wait_for(lambda c: w.get(path)["posts"] >= n_first + n_second, what="profile grown")
        body = w.get(path)
    # Restored from the checkpoint: the first part counted once, the second once.
    assert body["posts"] == n_first + n_second

    with open_store(store_url, data) as store:
        row = interest_queries.user_profile(store, "default", user)
        assert row is not None and row["posts"] == n_first + n_second
        assert int(row["version"]) == body["version"]
        merged = {
            int(r["topic_id"])
            for r in store.query(
                "SELECT topic_id FROM topics WHERE stream = 'default' AND status = 'merged'"
            )
        }
        latest = store.query(
            "SELECT user_id, topic_ids FROM user_interests WHERE stream = 'default' "
            "ORDER BY version DESC LIMIT 1 BY user_id"
        )
        assert len(latest) > 100
        assert all(not (set(r["topic_ids"]) & merged) for r in latest), merged


def test_profiles_chdb(tmp_path):
    _profiles(tmp_path, f"chdb:{tmp_path / 'data' / 'chdb'}")


def test_profiles_clickhouse_server(tmp_path, clickhouse_url):
    _profiles(tmp_path, clickhouse_url)
