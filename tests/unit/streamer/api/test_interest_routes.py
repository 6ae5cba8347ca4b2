"""The interest routes over a real chdb store: profiles, similar users, audience, recommend."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from streamer.api import ApiContext, add_routes
from streamer.store import open_store


def profile_row(user, version, ids, shares, vector, posts=4, as_of=1000.0):
    return {
        "stream": "s", "user_id": user, "version": version, "as_of": as_of, "last_ts": as_of,
        "posts": posts, "mass": 2.0, "topic_ids": ids, "shares": shares,
        "weights": [2 * x for x in shares], "topic_last_ts": [int(as_of)] * len(ids),
        "keywords": ["guitar"], "keyword_scores": [0.3], "vector": vector,
    }  # fmt: skip


def topic_row(tid, label, centroid, weight):
    return {
        "topic_id": tid, "stream": "s", "version": 1, "born_at": 0, "updated_at": 900,
        "size": 10, "weight": weight, "centroid": centroid, "keywords": label.split(),
        "keyword_scores": [1.0] * len(label.split()), "label": label, "status": "active",
        "merged_into": None, "split_from": None, "examples": [f"{label} post"],
    }  # fmt: skip


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = open_store(f"chdb:{tmp_path_factory.mktemp('chdb')}")
    s.migrate()
    s.insert("topics", [
        topic_row(1, "guitar amp", [1.0, 0.0, 0.0], 1.0),
        topic_row(2, "rail strike", [0.0, 1.0, 0.0], 9.0),
        topic_row(3, "bass pedal", [0.9, 0.0, 0.436], 2.0),
    ])  # fmt: skip
    s.insert("user_interests", [
        profile_row("ann", 1, [2], [1.0], [0.0, 1.0, 0.0]),
        profile_row("ann", 5, [1, 3], [0.8, 0.2], [1.0, 0.0, 0.0]),  # newest wins
        profile_row("bob", 3, [1], [1.0], [1.0, 0.0, 0.0]),
        profile_row("cy", 4, [2], [1.0], [0.0, 1.0, 0.0]),
    ])  # fmt: skip
    yield s
    s.close()


def run(store, scenario) -> None:
    async def main() -> None:
        app = web.Application()
        add_routes(app, ApiContext(agents=frozenset({"sink"}), store=store))
        async with TestClient(TestServer(app)) as client:
            await scenario(client)

    asyncio.run(main())


def test_interests_answer_the_newest_profile_with_labels(store):
    async def scenario(client: TestClient) -> None:
        r = await client.get("/api/v1/users/ann/interests", params={"stream": "s"})
        body = await r.json()
        assert r.status == 200 and body["as_of"] == 1000 and body["posts"] == 4
        assert [(t["topic_id"], t["label"]) for t in body["topics"]] == [
            (1, "guitar amp"),
            (3, "bass pedal"),
        ]
        assert body["topics"][0]["share"] == pytest.approx(0.8)
        r = await client.get("/api/v1/users/ann/interests", params={"stream": "s", "limit": 1})
        assert len((await r.json())["topics"]) == 1
        r = await client.get("/api/v1/users/nobody/interests", params={"stream": "s"})
        assert r.status == 404

    run(store, scenario)


def test_bad_parameters_are_400(store):
    async def scenario(client: TestClient) -> None:
        r = await client.get("/api/v1/users/" + "u" * 300 + "/interests")
        assert r.status == 400 and "longer than 256" in (await r.json())["error"]
        r = await client.get("/api/v1/users/ann/interests", params={"limit": "33"})
        assert r.status == 400
        r = await client.get("/api/v1/topics/x/audience")
        assert r.status == 400

    run(store, scenario)


def test_similar_users_and_audience(store):
    async def scenario(client: TestClient) -> None:
        r = await client.get("/api/v1/users/ann/similar", params={"stream": "s"})
        body = await r.json()
        # ann left topic 2 (her old row named it): cy is not similar any more.
        assert [u["user_id"] for u in body["similar"]] == ["bob"]
        assert body["similar"][0]["shared_topics"] == [1]
        r = await client.get("/api/v1/topics/2/audience", params={"stream": "s"})
        body = await r.json()
        assert [u["user_id"] for u in body["audience"]] == ["cy"] and body["label"] == "rail strike"

    run(store, scenario)


def test_recommendations_follow_the_profile_and_explain_themselves(store):
    async def scenario(client: TestClient) -> None:
        r = await client.get("/api/v1/users/ann/recommend", params={"stream": "s", "limit": 3})
        body = await r.json()
        assert r.status == 200 and body["known_user"] is True
        assert body["items"][0]["topic_id"] == 1
        assert "guitar amp" in body["items"][0]["because"]
        # A new user gets the trending topic first.
        r = await client.get("/api/v1/users/newcomer/recommend", params={"stream": "s"})
        body = await r.json()
        assert body["known_user"] is False and body["items"][0]["topic_id"] == 2
        assert body["items"][0]["because"] == []

    run(store, scenario)
