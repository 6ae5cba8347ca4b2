"""The online topic engine: birth, assignment, merge, split, dormancy, snapshots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.unit.workers.synthetic import DIM, centres, posts, texts_for, unit
from workers.engine_config import EngineConfig
from workers.topic_engine import TopicTrackEngine
from workers.topic_types import UNASSIGNED

HOUR = 3600.0
T0 = 1_700_000_000.0


def feed(eng: TopicTrackEngine, x: np.ndarray, t0: float, words: list[str], spacing: float = 60.0):
    ts = t0 + spacing * np.arange(len(x))
    return eng.learn_many(x, ts, texts_for(words, len(x)), [f"d{t0}-{i}" for i in range(len(x))])


def test_no_topic_is_born_from_fewer_than_min_size_agreeing_posts() -> None:
    eng = TopicTrackEngine(DIM, EngineConfig(min_topic_size=5))
    c = centres(1)[0]
    res = feed(eng, posts(c, 4), T0, ["quake"])
    assert (res.topic_ids == UNASSIGNED).all()
    assert eng.stats()["live_topics"] == 0
    assert len(eng.buffer) == 4
    res = feed(eng, posts(c, 1, seed=9), T0 + HOUR, ["quake"])
    # The fifth agreeing post births the topic and takes the four waiting ones along.
    assert eng.stats()["live_topics"] == 1
    tid = int(res.topic_ids[0])
    assert tid == 1
    assert [len(late.doc_ids) for late in res.late] == [4]
    assert res.late[0].topic_id == tid
    assert [e.kind for e in res.lineage] == ["born"]
    assert eng.topic(tid).size == 5


def test_unrelated_posts_never_form_a_topic() -> None:
    eng = TopicTrackEngine(DIM)
    res = feed(eng, centres(40, seed=3), T0, ["noise"])
    assert (res.topic_ids == UNASSIGNED).all()
    assert eng.stats()["topics_ever"] == 0


def test_posts_join_the_nearest_topic_and_topics_stay_apart() -> None:
    eng = TopicTrackEngine(DIM)
    c = centres(2, seed=4)
    first = feed(eng, posts(c[0], 20, seed=1), T0, ["flood", "river"])
    second = feed(eng, posts(c[1], 20, seed=2), T0 + 60, ["fire", "smoke"])
    a, b = set(first.topic_ids.tolist()), set(second.topic_ids.tolist())
    assert a == {1} and b == {2}
    mixed = np.concatenate([posts(c[0], 10, seed=5), posts(c[1], 10, seed=6)])
    res = feed(eng, mixed, T0 + HOUR, ["flood", "fire"])
    assert res.topic_ids.tolist() == [1] * 10 + [2] * 10
    assert (res.similarity > 0.5).all()
    assert eng.topic(1).size == 30 and eng.topic(2).size == 30


def test_topk_distribution_leads_with_the_chosen_topic_and_leaves_outlier_mass() -> None:
    eng = TopicTrackEngine(DIM, EngineConfig(top_k=3))
    c = centres(3, seed=7)
    for i in range(3):
        feed(eng, posts(c[i], 10, seed=i), T0 + i, [f"w{i}"])
    res = feed(eng, posts(c[1], 8, seed=11), T0 + HOUR, ["w1"])
    assert (res.topk_ids[:, 0] == res.topic_ids).all()
    assert (np.diff(res.topk_probs, axis=1) <= 1e-6).all()  # descending
    total = res.topk_probs.sum(axis=1)
    assert ((total > 0.5) & (total < 1.0)).all()
    assert set(res.topk_ids[0].tolist()) == {1, 2, 3}


def test_keywords_name_the_topic() -> None:
    eng = TopicTrackEngine(DIM)
    c = centres(2, seed=8)
    feed(eng, posts(c[0], 30), T0, ["earthquake", "magnitude", "tremor"])
    feed(eng, posts(c[1], 30, seed=3), T0 + 60, ["wildfire", "smoke", "evacuation"])
    kw1 = set(eng.topic(1).keywords[:3])
    kw2 = set(eng.topic(2).keywords[:3])
    assert kw1 == {"earthquake", "magnitude", "tremor"}
    assert kw2 == {"wildfire", "smoke", "evacuation"}
    assert eng.topic(1).label.count("·") == 2
    assert eng.topic(1).examples  # representative posts kept


def test_converging_topics_merge_with_lineage() -> None:
    # A short half-life so centroids follow their recent posts.
    cfg = EngineConfig(assign_threshold=0.6, birth_threshold=0.6, half_life_s=600.0)
    eng = TopicTrackEngine(DIM, cfg)
    c = centres(1, seed=12)[0]
    other = centres(1, seed=13)[0]
    lineage = []
    changed_with_merge: list[int] = []
    for k in range(20):
        s = 0.9 * (1 - k / 19)  # two sides of a story drifting into one
        x = np.concatenate(
            [
                posts(unit(c + s * other), 10, seed=k, noise=0.03),
                posts(unit(c - s * other), 10, seed=100 + k, noise=0.03),
            ]
        )
        res = feed(eng, x, T0 + 1200 * k, ["story"])
        if k == 0:
            assert eng.stats()["live_topics"] == 2
        if any(e.kind == "merged" for e in res.lineage):
            changed_with_merge = list(res.changed)
        lineage += res.lineage
    merges = [e for e in lineage if e.kind == "merged"]
    assert len(merges) == 1
    gone, keep = merges[0].topic_id, merges[0].other
    # Both sides are published in that batch: the store learns the merge from
    # the gone topic's row (status merged, merged_into), not only the survivor's.
    assert set(changed_with_merge) == {gone, keep}
    assert {gone, keep} == {1, 2}
    assert eng.topic(gone).status == "merged"
    assert eng.topic(gone).merged_into == keep
    assert eng.topic(keep).status == "active"
    assert eng.topic(keep).size + 0 == 400 - eng.topic(gone).size + eng.topic(gone).size
    assert eng.stats()["live_topics"] == 1
    # After the merge every post goes to the survivor.
    res = feed(eng, posts(c, 10, seed=999, noise=0.03), T0 + 1200 * 21, ["story"])
    assert set(res.topic_ids.tolist()) == {keep}


def test_a_new_story_inside_an_old_topic_splits_off_as_a_child() -> None:
    cfg = EngineConfig(assign_threshold=0.3)
    eng = TopicTrackEngine(DIM, cfg)
    c = centres(2, seed=21)
    old = c[0]
    new = unit(c[0] + 1.2 * c[1])  # close enough to be absorbed at 0.3, yet a distinct story
    for k in range(10):
        feed(eng, posts(old, 30, seed=k), T0 + k * 600, ["old"])
    events = []
    for k in range(20):
        res = feed(eng, posts(new, 30, seed=50 + k), T0 + 6000 + k * 600, ["new"])
        events += res.lineage
    splits = [e for e in events if e.kind == "split"]
    assert splits, [e.kind for e in events]
    child, parent = splits[0].topic_id, splits[0].other
    assert parent == 1
    assert eng.topic(child).split_from == parent
    # The parent keeps its meaning (the old story); the child is the new one.
    assert float(eng.topic(parent).centroid @ old) > float(eng.topic(parent).centroid @ new)
    assert float(eng.topic(child).centroid @ new) > float(eng.topic(child).centroid @ old)


def test_quiet_topics_go_dormant_and_wake_on_return() -> None:
    eng = TopicTrackEngine(DIM, EngineConfig(half_life_s=HOUR))
    c = centres(2, seed=31)
    feed(eng, posts(c[0], 20), T0, ["storm"])
    # Twelve half-lives later, other traffic moves event time on: topic 1 has faded.
    v = eng.topic(1).version
    res = feed(eng, posts(c[1], 20, seed=4), T0 + 12 * HOUR, ["market"])
    assert any(e.kind == "dormant" and e.topic_id == 1 for e in res.lineage)
    assert eng.topic(1).status == "dormant"
    assert 1 in res.changed and eng.topic(1).version == v + 1  # published once, as dormant
    assert eng.topic(1).keywords  # kept, not deleted
    # The story comes back within the wake window: same id, no new topic.
    res = feed(eng, posts(c[0], 10, seed=9), T0 + 13 * HOUR, ["storm"])
    assert any(e.kind == "woke" and e.topic_id == 1 for e in res.lineage)
    assert set(res.topic_ids.tolist()) == {1}
    assert eng.topic(1).status == "active"
    assert eng.stats()["topics_ever"] == 2


def test_a_story_returning_after_the_wake_window_is_a_new_topic() -> None:
    eng = TopicTrackEngine(DIM, EngineConfig(half_life_s=HOUR, wake_window_s=24 * HOUR))
    c = centres(2, seed=32)
    feed(eng, posts(c[0], 20), T0, ["storm"])
    feed(eng, posts(c[1], 20, seed=4), T0 + 12 * HOUR, ["market"])
    res = feed(eng, posts(c[0], 10, seed=9), T0 + 60 * HOUR, ["storm"])
    assert set(res.topic_ids.tolist()) == {3}
    assert eng.topic(1).status == "dormant"


def test_live_set_is_capped() -> None:
    eng = TopicTrackEngine(DIM, EngineConfig(max_live=5, half_life_s=1e9))
    c = centres(12, seed=41)
    for i in range(12):
        feed(eng, posts(c[i], 6, seed=i), T0 + i, [f"w{i}"])
    stats = eng.stats()
    assert stats["live_topics"] == 5
    assert stats["dormant_topics"] == 7


def test_archiving_a_dormant_topic_is_a_lineage_event_and_not_published() -> None:
    eng = TopicTrackEngine(DIM, EngineConfig(max_live=2, max_dormant=2, half_life_s=1e9))
    c = centres(8, seed=42)
    archived, changed = [], set()
    for i in range(8):
        res = feed(eng, posts(c[i], 6, seed=i), T0 + i, [f"w{i}"])
        archived += [e.topic_id for e in res.lineage if e.kind == "archived"]
        changed |= set(res.changed) & set(archived)
    assert archived and eng.stats()["dormant_topics"] == 2
    assert not changed  # its words were dropped: the store keeps its last snapshot
    assert all(eng.topic(t).status == "dormant" for t in archived)  # archived reads as dormant


def test_buffered_posts_expire_after_the_ttl() -> None:
    eng = TopicTrackEngine(DIM, EngineConfig(buffer_ttl_s=HOUR))
    c = centres(1, seed=51)[0]
    feed(eng, posts(c, 3), T0, ["x"])
    assert len(eng.buffer) == 3
    feed(eng, centres(1, seed=52), T0 + 2 * HOUR, ["y"])
    assert len(eng.buffer) == 1
    stats = eng.stats()
    assert stats["unassigned_share"] == pytest.approx(1.0)


def test_snapshot_restores_exactly_and_records_last_event_time() -> None:
    eng = TopicTrackEngine(DIM)
    c = centres(4, seed=61)
    for k in range(6):
        feed(eng, posts(c[k % 4], 15, seed=k), T0 + k * 900, [f"w{k % 4}", "shared"])
    fresh = centres(1, seed=62)[0]
    feed(eng, posts(fresh, 3, seed=99), T0 + 6 * 900, ["w0"])  # some waiting in the buffer
    blob = eng.snapshot()
    twin = TopicTrackEngine.restore(blob)
    assert twin.last_ts == eng.last_ts == T0 + 6 * 900 + 120
    assert len(twin.buffer) == len(eng.buffer) > 0
    for k in range(6):
        x = posts(c[(k + 1) % 4], 15, seed=200 + k)
        a = feed(eng, x, T0 + 8000 + k * 900, ["w"])
        b = feed(twin, x, T0 + 8000 + k * 900, ["w"])
        np.testing.assert_array_equal(a.topic_ids, b.topic_ids)
        np.testing.assert_array_equal(a.topk_probs, b.topk_probs)
        assert a.changed == b.changed
    assert [(v.topic_id, v.size, v.keywords) for v in eng.topics(include_inactive=True)] == [
        (v.topic_id, v.size, v.keywords) for v in twin.topics(include_inactive=True)
    ]
    with pytest.raises(ValueError, match="snapshot"):
        TopicTrackEngine.restore(b"not a snapshot")


def test_predict_many_changes_nothing() -> None:
    eng = TopicTrackEngine(DIM)
    c = centres(1, seed=71)[0]
    feed(eng, posts(c, 10), T0, ["z"])
    before = eng.snapshot()
    res = eng.predict_many(posts(c, 5, seed=3))
    assert set(res.topic_ids.tolist()) == {1}
    assert eng.snapshot() == before


def test_bad_input_is_rejected_with_a_clear_error() -> None:
    eng = TopicTrackEngine(DIM)
    with pytest.raises(ValueError, match="shape"):
        eng.learn_many(np.zeros((2, 10), np.float32), np.zeros(2), ["a", "b"])
    with pytest.raises(ValueError, match="same length"):
        eng.learn_many(np.zeros((2, DIM), np.float32), np.zeros(3), ["a", "b"])
    with pytest.raises(ValueError, match="assign_threshold"):
        EngineConfig(assign_threshold=2.0)
    with pytest.raises(ValueError, match="one-document"):
        EngineConfig(min_topic_size=1)
    with pytest.raises(ValueError, match="unknown engine setting"):
        EngineConfig.from_dict({"thresold": 0.5})


def test_hierarchy_groups_related_topics_first() -> None:
    eng = TopicTrackEngine(DIM, EngineConfig(half_life_s=1e9, assign_threshold=0.85))
    base = centres(2, seed=81)
    near = [unit(base[0] + 0.6 * v) for v in centres(2, seed=82)]
    far = unit(base[1])
    for i, c in enumerate([*near, far]):
        feed(eng, posts(c, 8, seed=i, noise=0.02), T0 + i, [f"w{i}"])
    tree = eng.hierarchy()

    def leaves(node: dict) -> set[int]:
        if "topic_id" in node:
            return {node["topic_id"]}
        return set().union(*(leaves(ch) for ch in node["children"]))

    assert sorted(map(sorted, (leaves(ch) for ch in tree["children"]))) == [[1, 2], [3]]


def test_an_idle_topic_needs_a_closer_post_to_take_it() -> None:
    c = centres(2, seed=91)
    # A post at cosine ~0.35 to the topic's centre: enough for a busy topic (0.30) ...
    loose = unit(c[0] + 2.6 * c[1])
    assert 0.3 < float(loose @ c[0]) < 0.4
    for penalty, expected in ((0.0, 1), (0.1, UNASSIGNED)):
        config = EngineConfig(
            assign_threshold=0.30, idle_penalty=penalty, half_life_s=30 * 24 * HOUR
        )
        eng = TopicTrackEngine(DIM, config)
        feed(eng, posts(c[0], 10, noise=0.01), T0, ["old"])
        # ... but not for one that has been quiet for three days.
        res = eng.learn_many(loose[None, :], np.array([T0 + 72 * HOUR]), ["new"])
        assert res.topic_ids[0] == expected


def test_a_newborn_topic_takes_back_the_posts_an_older_topic_took_first() -> None:
    """Live, a story's first posts join an older topic of its kind before it is born."""
    a, b = centres(2, seed=95)
    first = unit(0.6 * a + 0.8 * b)  # the story's opening: near enough to the old topic
    later = unit(0.3 * a + 0.95 * b)  # the story proper: too far from it, agrees with itself
    for window, taken_back in ((12 * HOUR, True), (0.0, False)):
        eng = TopicTrackEngine(DIM, EngineConfig(reclaim_window_s=window))
        feed(eng, posts(a, 20, seed=1), T0, ["market"])
        opening = posts(first, 3, seed=2)
        ids = ["open-0", "open-1", "open-2"]
        t1 = T0 + HOUR
        lates, born = [], []
        for i in range(3):  # one post per batch, as a live stream arrives
            res = eng.learn_many(opening[i : i + 1], np.array([t1 + 60 * i]), ["x"], [ids[i]])
            assert res.topic_ids[0] == 1  # joined the old topic
        story = posts(later, 6, seed=3)
        for i in range(6):
            res = eng.learn_many(
                story[i : i + 1], np.array([t1 + 600 + 60 * i]), ["y"], [f"story-{i}"]
            )
            lates += res.late
            born += [e.topic_id for e in res.lineage if e.kind == "born"]
        assert born == [2]
        moved = sorted(d for late in lates if late.topic_id == 2 for d in late.doc_ids)
        if taken_back:
            assert set(ids) <= set(moved)
            assert eng.topic(1).size == 20 and eng.topic(2).size >= 8
            assert eng.stats()["reclaimed"] == 3
            # The take-back survives a snapshot: the ring keeps the document ids.
            again = TopicTrackEngine.restore(eng.snapshot())
            assert list(again.recent.doc_ids) == list(eng.recent.doc_ids)
        else:
            assert not set(ids) & set(moved)
            assert eng.topic(1).size == 23


def test_a_loose_joiner_goes_to_a_story_forming_in_the_buffer() -> None:
    a, b = centres(2, seed=97)
    forming = unit(0.3 * a + 0.95 * b)  # too far from the old topic: its posts wait
    joiner = unit(0.45 * a + 0.89 * b)  # would join the old topic loosely (~0.45)
    for agree, expected in ((3, UNASSIGNED), (0, 1)):
        eng = TopicTrackEngine(DIM, EngineConfig(forming_agree=agree))
        feed(eng, posts(a, 20, seed=1), T0, ["market"])
        waiting = eng.learn_many(posts(forming, 3, seed=2), np.full(3, T0 + HOUR), ["x"] * 3)
        assert (waiting.topic_ids == UNASSIGNED).all() and len(eng.buffer) == 3
        res = eng.learn_many(joiner[None, :], np.array([T0 + HOUR + 60]), ["y"])
        assert float(res.similarity[0]) > 0.35
        assert res.topic_ids[0] == expected


def test_a_format_1_snapshot_restores_to_the_results_the_old_engine_gave() -> None:
    """``data/engine_v1.snapshot`` was written by the engine before its parts saved themselves."""
    data = Path(__file__).parent / "data"
    blob = (data / "engine_v1.snapshot").read_bytes()
    want = json.loads((data / "engine_v1_next.json").read_text())
    eng = TopicTrackEngine.restore(blob)
    assert len(eng.buffer) == 2 and len(eng.dormant) == 3  # there is something to restore
    # ... and restored again from today's format, the same state.
    for e in (eng, TopicTrackEngine.restore(eng.snapshot())):
        x = np.asarray(want["x"], dtype=np.float32)
        ts = np.asarray(want["ts"])
        res = e.learn_many(x, ts, want["texts"], [f"n-{i}" for i in range(len(x))])
        assert res.topic_ids.tolist() == want["topic_ids"]
        assert res.similarity.tolist() == want["similarity"]
        assert res.topk_ids.tolist() == want["topk_ids"]
        assert res.topk_probs.tolist() == want["topk_probs"]
        assert [[late.doc_ids, late.topic_id] for late in res.late] == want["late"]
        assert [[ev.kind, ev.topic_id, ev.other] for ev in res.lineage] == want["lineage"]
        assert res.changed == want["changed"]
        fields = ("topic_id", "size", "status", "keywords", "examples", "version", "merged_into")
        views = [
            [*(getattr(v, f) for f in fields), v.weight] for v in e.topics(include_inactive=True)
        ]
        assert views == want["views"]
        assert e.stats() == want["stats"]


def test_a_restored_engine_writes_the_same_snapshot_bytes() -> None:
    """Every part restores all of its state (a lost key would change the bytes)."""
    eng = TopicTrackEngine(DIM)
    c = centres(2, seed=63)
    feed(eng, posts(c[0], 12), T0, ["a"])
    feed(eng, posts(c[1], 3), T0 + HOUR, ["b"])  # waiting in the buffer
    blob = eng.snapshot()
    assert TopicTrackEngine.restore(blob).snapshot() == blob
