"""Online c-TF-IDF keywords."""

from __future__ import annotations

import numpy as np

from workers.keywords import KeywordModel


def add(model: KeywordModel, topic: int, docs: list[list[str]], weight: float = 1.0) -> None:
    model.add(np.full(len(docs), topic), np.full(len(docs), weight), docs)


def test_distinctive_words_outrank_words_common_to_all_topics() -> None:
    m = KeywordModel()
    add(m, 1, [["flood", "help", "river"]] * 10)
    add(m, 2, [["fire", "help", "smoke"]] * 10)
    add(m, -1, [["help"]] * 50)  # unassigned posts still count for global frequency
    words = [w for w, _ in m.keywords(1, 3)]
    assert set(words[:2]) == {"flood", "river"}
    assert words[2] == "help"


def test_recent_posts_weigh_more_under_forward_decay() -> None:
    m = KeywordModel()
    add(m, 1, [["old"]] * 10, weight=0.01)
    add(m, 1, [["new"]] * 10, weight=1.0)
    assert m.keywords(1, 1)[0][0] == "new"


def test_merge_combines_and_state_round_trips() -> None:
    m = KeywordModel()
    add(m, 1, [["alpha", "beta"]] * 4)
    add(m, 2, [["gamma"]] * 4)
    m.merge(2, 1)
    assert {w for w, _ in m.keywords(1, 3)} == {"alpha", "beta", "gamma"}
    assert m.keywords(2) == []
    twin = KeywordModel()
    twin.load(*m.state())
    assert twin.keywords(1, 3) == m.keywords(1, 3)


def test_vocabulary_is_pruned_when_it_outgrows_its_bound() -> None:
    m = KeywordModel(max_vocab=10)
    add(m, 1, [["keep"]] * 20)
    add(m, 1, [[f"rare{i}"] for i in range(30)])
    m.fold()
    assert len(m.words) <= 10
    assert "keep" in m.vocab
    assert m.keywords(1, 1)[0][0] == "keep"
