"""Multi-granularity representations of long documents: words, sentences, the document.

A long document (at least ``min_chars``) is split into sentences (Latin and
CJK end punctuation, line breaks); its sentences and its bag of words (its
keyword terms as one text) are embedded beside the document, in the same
micro-batch. Then

- the sentence-level vector is ``v_s = normalise(sum of sentence vectors)``
  (the seeds' ``(1/sqrt|p|) * sum v_s`` up to the norm), the word-level one
  the embedding of the bag of words, and the fused vector
  ``normalise(a_w * v_w + a_s * v_s + a_d * v_d)``;
- a document's topic distribution is the same mix of the engine's top-k
  distributions of the three levels.

Short documents (tweets) keep their document vector and distribution. The
weights start from the seeds' 0.5 / 0.3 / 0.2 (word, sentence, document);
docs/interests.md reports the ablation that decides whether this is on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from workers.topic_types import UNASSIGNED

#: Sentence ends: Latin . ! ? ; followed by space, CJK 。！？；… (no space needed), and
#: blank lines (paragraphs). A single line break is wrapping (Reuters, mail), not an end.
_SPLIT = re.compile(r"(?<=[.!?;])\s+|(?<=[。！？；…])|\n\s*\n")
#: A fragment starting with a CJK character or full-width punctuation.
_CJK = re.compile(r"[\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]")


@dataclass(frozen=True)
class GranularitySettings:
    """When a document counts as long, how it is cut, and the level weights.

    Examples
    --------
    >>> from workers.granularity import GranularitySettings
    >>> GranularitySettings().weights
    (0.5, 0.3, 0.2)
    """

    #: Documents at least this long (characters) get sentence and word levels.
    min_chars: int = 400
    #: Sentences embedded per document at most (the first ones).
    max_sentences: int = 8
    #: A fragment shorter than this joins the next one.
    min_sentence_chars: int = 20
    #: Terms in the bag-of-words text at most.
    max_words: int = 64
    #: Weights of the word, sentence and document levels.
    weights: tuple[float, float, float] = (0.5, 0.3, 0.2)


def split_sentences(text: str, max_sentences: int = 8, min_chars: int = 20) -> list[str]:
    """The first ``max_sentences`` sentences of ``text`` (short fragments joined on).

    Examples
    --------
    >>> from workers.granularity import split_sentences
    >>> split_sentences("The river rose overnight. Shops were flooded! Is it over?", 3, 5)
    ['The river rose overnight.', 'Shops were flooded!', 'Is it over?']
    >>> split_sentences("河水上涨了。商店被淹了！", 5, 1)
    ['河水上涨了。', '商店被淹了！']
    """
    out: list[str] = []
    carry = ""
    for part in _SPLIT.split(text):
        part = " ".join(part.split())
        if not part:
            continue
        # CJK text has no spaces between sentences; Latin gets one back.
        sep = "" if _CJK.match(part) else " "
        carry = f"{carry}{sep}{part}" if carry else part
        if len(carry) >= min_chars:
            out.append(carry)
            carry = ""
            if len(out) == max_sentences:
                return out
    if carry:
        out.append(carry)
    return out[:max_sentences]


@dataclass
class Levels:
    """The extra texts of a batch's long documents, and which document each belongs to."""

    sentences: list[str]
    sentence_doc: np.ndarray  # (n_sentences,) index of the document in the batch
    words: list[str]
    word_doc: np.ndarray  # (n_long,) index of each bag of words' document


def levels(
    texts: Sequence[str], terms: Sequence[Sequence[str]], settings: GranularitySettings
) -> Levels:
    """Sentence and bag-of-words texts of the long documents among ``texts``."""
    sentences: list[str] = []
    sentence_doc: list[int] = []
    words: list[str] = []
    word_doc: list[int] = []
    for i, text in enumerate(texts):
        if len(text) < settings.min_chars:
            continue
        parts = split_sentences(text, settings.max_sentences, settings.min_sentence_chars)
        sentences += parts
        sentence_doc += [i] * len(parts)
        bag = list(dict.fromkeys(terms[i]))[: settings.max_words]
        if bag:
            words.append(" ".join(bag))
            word_doc.append(i)
    return Levels(
        sentences, np.asarray(sentence_doc, np.int64), words, np.asarray(word_doc, np.int64)
    )


def _unit(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(norm > 0, norm, 1.0)


def fuse_vectors(
    doc: np.ndarray, lv: Levels, sent_vecs: np.ndarray, word_vecs: np.ndarray,
    settings: GranularitySettings,
) -> np.ndarray:  # fmt: skip
    """``(n, dim)`` fused unit vectors: long documents mixed over levels, others as they were."""
    a_w, a_s, a_d = settings.weights
    n, dim = doc.shape
    sent = np.zeros((n, dim))
    np.add.at(sent, lv.sentence_doc, sent_vecs)
    word = np.zeros((n, dim))
    if len(lv.word_doc):
        word[lv.word_doc] = word_vecs
    has_s = np.bincount(lv.sentence_doc, minlength=n) > 0
    has_w = np.zeros(n, dtype=bool)
    has_w[lv.word_doc] = True
    mix = a_d * doc.astype(np.float64)
    mix += a_s * np.where(has_s[:, None], _unit(sent), 0.0)
    mix += a_w * np.where(has_w[:, None], _unit(word), 0.0)
    long = has_s | has_w
    return np.where(long[:, None], _unit(mix), doc).astype(np.float32)


def _by_doc(ids: np.ndarray, probs: np.ndarray, n: int, rows: np.ndarray) -> list[dict[int, float]]:
    """Summed top-k probabilities per document of each row's document."""
    out: list[dict[int, float]] = [{} for _ in range(n)]
    for r, row_ids, row_p in zip(rows.tolist(), ids.tolist(), probs.tolist(), strict=True):
        for t, p in zip(row_ids, row_p, strict=True):
            if t != UNASSIGNED and p > 0:
                out[r][t] = out[r].get(t, 0.0) + p
    return out


def fuse_distributions(
    doc_ids: np.ndarray, doc_probs: np.ndarray, lv: Levels,
    sent_ids: np.ndarray, sent_probs: np.ndarray, word_ids: np.ndarray, word_probs: np.ndarray,
    settings: GranularitySettings,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Top-k ``(ids, probs)`` of ``a_w * theta_w + a_s * mean(theta_s) + a_d * theta_d``.

    Documents without sentence or word levels keep their own distribution;
    the weights of missing levels go to the document's.
    """
    n, k = doc_ids.shape
    a_w, a_s, a_d = settings.weights
    n_sent = np.bincount(lv.sentence_doc, minlength=n).astype(np.float64)
    sent = _by_doc(sent_ids, sent_probs, n, lv.sentence_doc)
    word = _by_doc(word_ids, word_probs, n, lv.word_doc)
    has_w = np.zeros(n, dtype=bool)
    has_w[lv.word_doc] = True
    out_ids = doc_ids.copy()
    out_probs = doc_probs.copy()
    for i in np.flatnonzero((n_sent > 0) | has_w).tolist():
        w_d = a_d + (a_s if n_sent[i] == 0 else 0.0) + (a_w if not has_w[i] else 0.0)
        mix: dict[int, float] = {}
        for t, p in zip(doc_ids[i].tolist(), doc_probs[i].tolist(), strict=True):
            if t != UNASSIGNED and p > 0:
                mix[t] = mix.get(t, 0.0) + w_d * p
        for t, p in sent[i].items():
            mix[t] = mix.get(t, 0.0) + a_s * p / n_sent[i]
        for t, p in word[i].items():
            mix[t] = mix.get(t, 0.0) + a_w * p
        top = sorted(mix, key=lambda t: (-mix[t], t))[:k]
        out_ids[i] = UNASSIGNED
        out_probs[i] = 0.0
        out_ids[i, : len(top)] = top
        out_probs[i, : len(top)] = [mix[t] for t in top]
    return out_ids, out_probs


class FusedHook:
    """An ``on_batch`` hook handing ``inner`` the batch's fused distributions.

    ``levels`` index documents in stream order; after the engine learned a
    batch, its long documents' sentences and bags of words are assigned with
    ``predict_many`` (no learning) and their top-k distributions mixed with
    the document's (:func:`fuse_distributions`).
    """

    def __init__(
        self, engine: Any, lv: Levels, sent_vecs: np.ndarray, word_vecs: np.ndarray,
        settings: GranularitySettings, inner: Callable[[int, int, Any, np.ndarray], None],
    ) -> None:  # fmt: skip
        self.engine = engine
        self.lv = lv
        self.sent_vecs = sent_vecs
        self.word_vecs = word_vecs
        self.settings = settings
        self.inner = inner

    def _take(self, doc_of: np.ndarray, vecs: np.ndarray, start: int, stop: int) -> Any:
        lo, hi = np.searchsorted(doc_of, [start, stop])
        rows = doc_of[lo:hi] - start
        if hi == lo:
            empty = np.zeros((0, 1), np.int64)
            return rows, empty, np.zeros((0, 1))
        res = self.engine.predict_many(vecs[lo:hi])
        return rows, np.asarray(res.topk_ids), np.asarray(res.topk_probs)

    def __call__(self, start: int, stop: int, result: Any, pred: np.ndarray) -> None:
        s_rows, s_ids, s_probs = self._take(self.lv.sentence_doc, self.sent_vecs, start, stop)
        w_rows, w_ids, w_probs = self._take(self.lv.word_doc, self.word_vecs, start, stop)
        local = Levels([], s_rows, [], w_rows)
        ids, probs = fuse_distributions(
            np.asarray(result.topk_ids), np.asarray(result.topk_probs), local,
            s_ids, s_probs, w_ids, w_probs, self.settings,
        )  # fmt: skip
        self.inner(start, stop, replace(result, topk_ids=ids, topk_probs=probs), pred)
