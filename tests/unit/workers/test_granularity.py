"""Multi-granularity: sentence splitting (CJK too), levels of long documents, fusion."""

from __future__ import annotations

import numpy as np
import pytest

from workers.granularity import (
    GranularitySettings,
    fuse_distributions,
    fuse_vectors,
    levels,
    split_sentences,
)


def test_sentences_split_on_latin_and_cjk_ends_and_short_fragments_join() -> None:
    text = (
        "Hi. The river rose\novernight!\nShops flooded; owners wait.\n\n"
        "New para 地震发生了。居民撤离！完"
    )
    got = split_sentences(text, max_sentences=10, min_chars=6)
    assert got == [
        "Hi. The river rose overnight!",
        "Shops flooded;",
        "owners wait.",
        "New para 地震发生了。",
        "居民撤离！完",
    ]
    assert split_sentences(text, max_sentences=2, min_chars=6) == got[:2]


def test_only_long_documents_get_levels() -> None:
    s = GranularitySettings(min_chars=30, min_sentence_chars=5)
    texts = ["short one", "A long post about rivers. It has two sentences at least."]
    lv = levels(texts, [["short"], ["long", "rivers", "rivers", "sentences"]], s)
    assert lv.sentences == ["A long post about rivers.", "It has two sentences at least."]
    assert lv.sentence_doc.tolist() == [1, 1]
    assert lv.words == ["long rivers sentences"] and lv.word_doc.tolist() == [1]


def test_fused_vectors_mix_levels_with_the_weights_and_leave_short_docs() -> None:
    s = GranularitySettings(min_chars=30, min_sentence_chars=5, weights=(0.5, 0.3, 0.2))
    lv = levels(["tiny", "A long post about rivers. It has two sentences."], [[], ["rivers"]], s)
    doc = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]], np.float32)
    sent = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]], np.float32)
    word = np.array([[0.0, 0.0, 1.0]], np.float32)
    out = fuse_vectors(doc, lv, sent, word, s)
    assert out[0].tolist() == [1.0, 0.0, 0.0]
    expected = np.array([0.2, 0.3, 0.5]) / np.linalg.norm([0.2, 0.3, 0.5])
    assert np.allclose(out[1], expected, atol=1e-6)


def test_fused_distributions_mix_levels_and_missing_levels_go_to_the_document() -> None:
    s = GranularitySettings(min_chars=30, min_sentence_chars=5, weights=(0.5, 0.3, 0.2))
    lv = levels(["tiny", "A long post about rivers. It has two sentences."], [[], []], s)
    assert lv.words == []  # no terms: no word level, its weight goes to the document
    doc_ids = np.array([[1, -1], [1, -1]])
    doc_p = np.array([[1.0, 0.0], [1.0, 0.0]])
    sent_ids = np.array([[2, -1], [1, 2]])
    sent_p = np.array([[1.0, 0.0], [0.5, 0.5]])
    ids, probs = fuse_distributions(
        doc_ids, doc_p, lv, sent_ids, sent_p, np.zeros((0, 2), int), np.zeros((0, 2)), s
    )
    assert ids[0].tolist() == [1, -1] and probs[0].tolist() == [1.0, 0.0]
    # document 0.7 (its 0.2 and the word level's 0.5) + sentences 0.3 * mean([0, 0.5] / [1, 0.5])
    assert ids[1].tolist() == [1, 2]
    assert probs[1].tolist() == pytest.approx([0.7 + 0.3 * 0.25, 0.3 * 0.75])
