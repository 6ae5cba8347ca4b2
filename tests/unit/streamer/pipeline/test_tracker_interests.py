"""The track stage keeps user profiles: rows out per batch, checkpointed with the engine."""

from __future__ import annotations

import numpy as np

from streamer.pipeline.codec import EmbeddedBatch
from streamer.pipeline.tracker import Tracker

A = np.array([1, 0, 0, 0], np.float32)
B = np.array([0, 1, 0, 0], np.float32)


def batch(vectors, users, start=0, stream="s"):
    events = [
        {
            "id": f"d{start + i}",
            "ts": 100.0 + start + i,
            "text": f"guitar amp {start + i}",
            "user_id": u,
        }
        for i, u in enumerate(users)
    ]
    return EmbeddedBatch(stream, events, np.stack(vectors))


def test_profiles_follow_late_assignments_and_go_out_as_rows(tmp_path, stand_in_factories):
    tr = Tracker(tmp_path, engine="stand-in", factories=stand_in_factories)
    out = tr.learn(batch([A, A, A], ["ann", "ann", ""]))
    (row,) = out.interests
    # d0 waited and d1 founded topic 0 with it: both count, late, for ann.
    assert row["user_id"] == "ann" and row["topic_ids"] == [0] and row["shares"] == [1.0]
    assert row["posts"] == 2 and row["stream"] == "s" and len(row["vector"]) == 4
    assert row["keywords"][:1] == ["guitar"] and row["version"] == 1
    out = tr.learn(batch([B], ["bob"], start=3))
    assert [r["user_id"] for r in out.interests] == ["bob"]


def test_a_stream_without_users_keeps_no_profiles(tmp_path, stand_in_factories):
    tr = Tracker(tmp_path, engine="stand-in", factories=stand_in_factories)
    out = tr.learn(batch([A, A], ["", ""]))
    assert out.interests == [] and "s" not in tr.interests


def test_profiles_are_checkpointed_with_the_engine(tmp_path, stand_in_factories):
    tr = Tracker(tmp_path, engine="stand-in", factories=stand_in_factories)
    tr.learn(batch([A, A, B], ["ann", "ann", "bob"]))  # bob's post waits in the buffer
    tr.save()
    again = Tracker(tmp_path, engine="stand-in", factories=stand_in_factories)
    assert again.load()
    before = tr.interests["s"].profile("ann")
    after = again.interests["s"].profile("ann")
    assert before is not None and after is not None
    assert (after.topic_ids, after.shares, after.version) == (
        before.topic_ids,
        before.shares,
        before.version,
    )
    # bob's buffered post is remembered across the restart: its late assignment counts.
    out = again.learn(batch([B], ["cy"], start=3))
    rows = {r["user_id"]: r for r in out.interests}
    assert rows["bob"]["topic_ids"] and rows["bob"]["posts"] == 1
    again.drop([0])
    assert "s" not in again.interests


def test_profiles_follow_a_merge_of_the_real_engine(tmp_path):
    """Two sides of a story drift into one (as in the engine's merge test): the side's
    users end with their whole mass on the survivor."""
    from tests.unit.workers.synthetic import centres, posts, unit

    tr = Tracker(
        tmp_path,
        engine_params={"assign_threshold": 0.6, "birth_threshold": 0.6, "half_life_s": 600.0},
    )
    c, other = centres(1, seed=12)[0], centres(1, seed=13)[0]
    rows: dict[str, dict] = {}
    for k in range(20):
        s = 0.9 * (1 - k / 19)
        x = np.concatenate(
            [
                posts(unit(c + s * other), 10, seed=k, noise=0.03),
                posts(unit(c - s * other), 10, seed=100 + k, noise=0.03),
            ]
        )
        events = [
            {"id": f"k{k}-{i}", "ts": 1_700_000_000.0 + 1200 * k + 60 * i, "text": "story words",
             "user_id": "ann" if i < 10 else "bob"}
            for i in range(20)
        ]  # fmt: skip
        out = tr.learn(EmbeddedBatch("s", events, x))
        rows.update({r["user_id"]: r for r in out.interests})
    merged = [v for v in tr.engines["s"].topics(include_inactive=True) if v.status == "merged"]
    assert len(merged) == 1
    gone, keep = merged[0].topic_id, merged[0].merged_into
    for user in ("ann", "bob"):
        assert gone not in rows[user]["topic_ids"]
        assert rows[user]["topic_ids"][0] == keep and rows[user]["shares"][0] > 0.9


def test_a_profile_failure_never_stops_the_assignments(tmp_path, stand_in_factories):
    from workers.interests import InterestSettings

    tr = Tracker(
        tmp_path,
        engine="stand-in",
        factories=stand_in_factories,
        interest_settings=InterestSettings(max_users=1),
    )
    out = tr.learn(batch([A, A], ["ann", "bob"]))  # two users cannot fit one slot
    assert out.interest_errors == 1
    assert [r["event_id"] for r in out.assignments if r["version"] == 0] == ["d0", "d1"]
