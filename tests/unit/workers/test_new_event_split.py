"""A new event absorbed by an older topic of its kind splits off (workers.emerging_terms)."""

from __future__ import annotations

import numpy as np

from tests.unit.workers.synthetic import DIM, centres, posts, unit
from workers.emerging_terms import EmergingTerms
from workers.engine_config import EngineConfig
from workers.topic_engine import TopicTrackEngine

HOUR = 3600.0
T0 = 1_700_000_000.0


def run(config: EngineConfig) -> tuple[TopicTrackEngine, list, np.ndarray]:
    """150 posts of a train crash in Quebec, then 60 of one in Spain three days later.

    The second event's posts sit at cosine ~0.55 from the first's centroid:
    close enough to join it, so only the words tell them apart.
    """
    a, b = centres(2, seed=21)
    spain = unit(0.55 * a + 0.835 * b)
    eng = TopicTrackEngine(DIM, config)
    lineage = []
    old = posts(a, 150, seed=1, noise=0.03)
    for s in range(0, 150, 5):
        ts = T0 + 600.0 * np.arange(s, s + 5)
        texts = ["train derailed in quebec, oil cars burning"] * 5
        lineage += eng.learn_many(old[s : s + 5], ts, texts).lineage
    new = posts(spain, 60, seed=2, noise=0.03)
    topics = []
    for s in range(0, 60, 3):
        ts = T0 + 72 * HOUR + 60.0 * np.arange(s, s + 3)
        res = eng.learn_many(new[s : s + 3], ts, ["train crash near santiago, spain"] * 3)
        lineage += res.lineage
        topics += res.topic_ids.tolist()
    return eng, lineage, np.array(topics)


def test_the_new_event_splits_off_early_and_keeps_its_later_posts() -> None:
    eng, lineage, topics = run(EngineConfig())
    splits = [e for e in lineage if e.kind == "split"]
    assert len(splits) == 1 and splits[0].other == 1
    child = splits[0].topic_id
    assert eng.topic(child).split_from == 1
    first_in_child = int(np.argmax(topics == child))
    # Split once 15 of the topic's recent posts say "santiago": a few dozen posts at most.
    assert first_in_child <= 30 and (topics[first_in_child:] == child).all()
    assert eng.topic(child).size >= 45
    assert "quebec" in eng.topic(1).keywords


def test_without_it_the_old_topic_swallows_the_new_event() -> None:
    _, lineage, topics = run(EngineConfig(split_term_min_docs=0))
    assert not [e for e in lineage if e.kind == "split"] and (topics == 1).all()


def test_a_term_the_topic_always_used_is_no_new_event() -> None:
    et = EmergingTerms(window=10, min_docs=4, min_prior=20, max_prior_share=0.01)
    # Every recent post says "train" and "quebec" (hot), but so did the history.
    words = [["train", "derailed", "quebec"]] * 40 + [["train", "quebec", "bridge"]] * 3
    assert et.observe([7] * 43, words, [str(i) for i in range(43)]) == []


def test_term_history_survives_a_snapshot() -> None:
    eng, _, _ = run(EngineConfig())
    again = TopicTrackEngine.restore(eng.snapshot())
    assert again.snapshot() == eng.snapshot()
    assert again.emerging.topics.keys() == eng.emerging.topics.keys()
