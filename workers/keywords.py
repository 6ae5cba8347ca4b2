"""Online class-based TF-IDF keywords with event-time decay.

Each topic keeps decayed per-term document counts; the whole stream keeps
decayed per-term document frequencies. A term's score in topic ``c`` is
BERTopic's c-TF-IDF, ``tf(t, c) / |c| * log(1 + A / f(t))`` with ``A`` the
topic's mass and ``f(t)`` the term's mass over all documents, so words
common everywhere (``help``, ``news``) sink and words particular to a topic
rise.

Decay uses *forward decay*: a document at event time ``t`` adds
``exp(lambda * (t - landmark))`` instead of every count being multiplied down
at each step. Ratios between counts are then exact decayed ratios, and
nothing has to be touched per batch. The engine owns the landmark and calls
:meth:`KeywordModel.rescale` when it moves it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: Terms kept in the vocabulary before the rarest are pruned. Bounds memory
#: on endless streams (hashtags and typos keep arriving forever).
MAX_VOCAB = 200_000
#: Smallest share of a topic's documents a term must appear in to be a keyword.
MIN_TERM_SHARE = 0.02
#: Queued documents that trigger a fold of the keyword statistics.
FOLD_EVERY = 4096


def _runs(keys: np.ndarray) -> list[tuple[int, int, int]]:
    """``(key, start, end)`` of each run of equal values in ``keys``."""
    if len(keys) == 0:
        return []
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    return list(zip(keys[starts].tolist(), starts.tolist(), ends.tolist(), strict=True))


class KeywordModel:
    """Decayed per-topic term statistics and c-TF-IDF keyword ranking.

    Batches are queued and folded into the statistics in chunks of
    :data:`FOLD_EVERY` documents (or when keywords are read): one vocabulary
    lookup pass and one aggregation per chunk instead of per micro-batch,
    which halves the per-document cost of keywords in the engine.
    """

    def __init__(self, max_vocab: int = MAX_VOCAB) -> None:
        self.max_vocab = max_vocab
        self.vocab: dict[str, int] = {}
        self.words: list[str] = []
        self.df = np.zeros(1024, dtype=np.float64)  # decayed doc frequency per term id
        # Per topic: sorted term ids and their decayed counts (parallel arrays).
        self.topic_terms: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.topic_mass: dict[int, float] = {}  # decayed documents per topic
        self._pending: list[tuple[np.ndarray, np.ndarray, Sequence[Sequence[str]], bool]] = []
        self._pending_docs = 0
        # Keywords of topics that left the live set, as they were when they left.
        self.frozen: dict[int, list[tuple[str, float]]] = {}

    # -- updates ---------------------------------------------------------
    def add(
        self,
        topic_ids: np.ndarray,
        weights: np.ndarray,
        terms: Sequence[Sequence[str]],
        count_global: bool = True,
    ) -> None:
        """Queue a batch: document ``i`` with ``terms[i]`` went to ``topic_ids[i]`` (-1: none).

        ``weights`` are forward-decay weights. Documents count towards the
        global frequencies unless ``count_global`` is false (documents seen
        before, now assigned by a birth).
        """
        if len(terms) == 0:
            return
        self._pending.append(
            (
                np.asarray(topic_ids, dtype=np.int64),
                np.asarray(weights, np.float64),
                terms,
                count_global,
            )
        )
        self._pending_docs += len(terms)
        if self._pending_docs >= FOLD_EVERY:
            self.fold()

    def fold(self) -> None:
        """Fold every queued batch into the statistics."""
        if not self._pending:
            return
        pending, self._pending, self._pending_docs = self._pending, [], 0
        topic = np.concatenate([p[0] for p in pending])
        weight = np.concatenate([p[1] for p in pending])
        count_global = np.concatenate([np.full(len(p[2]), p[3]) for p in pending])
        docs = [doc for p in pending for doc in p[2]]
        assigned = topic >= 0
        if assigned.any():
            topics, inv = np.unique(topic[assigned], return_inverse=True)
            mass = np.bincount(inv, weights=weight[assigned])
            for t, m in zip(topics.tolist(), mass.tolist(), strict=True):
                self.topic_mass[t] = self.topic_mass.get(t, 0.0) + m
        flat = [w for doc in docs for w in doc]
        if not flat:
            return
        ids = list(map(self.vocab.get, flat))  # C-level loop over terms
        if None in ids:
            for w in dict.fromkeys(w for w, i in zip(flat, ids, strict=True) if i is None):
                self.vocab[w] = len(self.words)
                self.words.append(w)
            ids = list(map(self.vocab.get, flat))
            if len(self.words) > len(self.df):
                grown = np.zeros(max(len(self.words), 2 * len(self.df)), dtype=np.float64)
                grown[: len(self.df)] = self.df
                self.df = grown
        doc_of = np.repeat(np.arange(len(docs), dtype=np.int64), [len(d) for d in docs])
        # Document frequencies: a term counts once per document.
        key = np.unique((doc_of << 32) | np.asarray(ids, dtype=np.int64))
        doc_u, term_u = key >> 32, key & 0xFFFFFFFF
        w = weight[doc_u]
        glob = count_global[doc_u]
        np.add.at(self.df, term_u[glob], w[glob])
        t_of = topic[doc_u]
        keep = t_of >= 0
        if keep.any():
            # Aggregate (topic, term) pairs, then merge each topic's slice at once.
            uniq, inverse = np.unique((t_of[keep] << 32) | term_u[keep], return_inverse=True)
            sums = np.bincount(inverse, weights=w[keep])
            for t, a, b in _runs(uniq >> 32):
                self._add_to_bag(t, uniq[a:b] & 0xFFFFFFFF, sums[a:b])
        self._maybe_prune()

    def _add_to_bag(self, topic_id: int, terms: np.ndarray, values: np.ndarray) -> None:
        """Add counts for sorted unique ``terms`` into a topic's arrays."""
        bag = self.topic_terms.get(topic_id)
        if bag is None:
            self.topic_terms[topic_id] = (terms.copy(), values.astype(np.float64))
            return
        ids, vals = bag
        merged, inv = np.unique(np.concatenate([ids, terms]), return_inverse=True)
        total = np.bincount(inv, weights=np.concatenate([vals, values]), minlength=len(merged))
        self.topic_terms[topic_id] = (merged, total)

    def merge(self, src: int, dst: int) -> None:
        """Add topic ``src``'s statistics into ``dst`` (a topic merge)."""
        self.fold()
        bag = self.topic_terms.pop(src, None)
        if bag is not None:
            self._add_to_bag(dst, *bag)
        self.topic_mass[dst] = self.topic_mass.get(dst, 0.0) + self.topic_mass.pop(src, 0.0)

    def move_share(self, src: int, dst: int, share: float) -> None:
        """Give ``dst`` a ``share`` of ``src``'s statistics (a split's child)."""
        self.fold()
        bag = self.topic_terms.get(src)
        if bag is not None:
            ids, vals = bag
            self.topic_terms[dst] = (ids.copy(), vals * share)
            self.topic_terms[src] = (ids, vals * (1.0 - share))
        mass = self.topic_mass.get(src, 0.0)
        self.topic_mass[dst] = mass * share
        self.topic_mass[src] = mass * (1.0 - share)

    def drop(self, topic_id: int) -> None:
        """Forget a topic's statistics and frozen keywords (archived topics)."""
        self.fold()
        self.topic_terms.pop(topic_id, None)
        self.topic_mass.pop(topic_id, None)
        self.frozen.pop(topic_id, None)

    def freeze(self, topic_id: int, k: int = 10) -> None:
        """Keep a leaving topic's keywords as they are now (its statistics only fade from here)."""
        self.frozen[topic_id] = self._ranked(topic_id, k)

    def thaw(self, topic_id: int) -> None:
        """A topic back in the live set: its keywords follow its statistics again."""
        self.frozen.pop(topic_id, None)

    def rescale(self, factor: float) -> None:
        """Multiply every stored mass by ``factor`` (the engine moved its decay landmark)."""
        self.fold()
        self.df *= factor
        for t, (ids, vals) in self.topic_terms.items():
            self.topic_terms[t] = (ids, vals * factor)
        for t in self.topic_mass:
            self.topic_mass[t] *= factor

    # -- queries ---------------------------------------------------------
    def keywords(self, topic_id: int, k: int = 10) -> list[tuple[str, float]]:
        """Top ``k`` (term, c-TF-IDF score) for a topic, best first; as frozen, if it was."""
        return self.frozen.get(topic_id, [])[:k] or self._ranked(topic_id, k)

    def _ranked(self, topic_id: int, k: int) -> list[tuple[str, float]]:
        """Top ``k`` keywords from the current statistics."""
        self.fold()
        bag = self.topic_terms.get(topic_id)
        mass = self.topic_mass.get(topic_id, 0.0)
        if bag is None or len(bag[0]) == 0 or mass <= 0:
            return []
        ids, tf = bag
        # A term in under 1% of a topic's (decayed) documents is an accident of
        # a few posts, not what the topic is about; tiny topics keep all terms.
        usable = tf >= min(MIN_TERM_SHARE * mass, tf.max())
        ids, tf = ids[usable], tf[usable]
        # The topic's own mass stands for BERTopic's average class size: both
        # sides of the ratio then decayed alike, so a topic that went quiet
        # long ago still ranks its words sensibly against today's counts.
        # A term is at least as frequent overall as inside this topic.
        overall = np.maximum(self.df[ids], tf)
        score = (tf / mass) * np.log1p(mass / overall)
        top = np.argsort(-score)[:k]
        return [(self.words[int(ids[i])], float(score[i])) for i in top]

    # -- snapshot ----------------------------------------------------------
    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Flat arrays, the word list and the frozen keywords that rebuild the model exactly."""
        self.fold()
        order = list(self.topic_terms)
        sizes = [len(self.topic_terms[t][0]) for t in order]
        terms = [self.topic_terms[t][0] for t in order]
        values = [self.topic_terms[t][1] for t in order]
        arrays = {
            "df": self.df[: len(self.words)].copy(),
            "bag_topic": np.repeat(np.asarray(order, dtype=np.int64), sizes),
            "bag_term": np.concatenate(terms) if terms else np.zeros(0, np.int64),
            "bag_value": np.concatenate(values) if values else np.zeros(0),
            "mass_topic": np.asarray(list(self.topic_mass.keys()), dtype=np.int64),
            "mass_value": np.asarray(list(self.topic_mass.values()), dtype=np.float64),
        }
        meta = {
            "words": list(self.words),
            "frozen": {str(t): [list(kw) for kw in v] for t, v in self.frozen.items()},
        }
        return arrays, meta

    def load(self, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
        """Replace the statistics with :meth:`state` output."""
        self._pending, self._pending_docs = [], 0
        self.words = list(meta["words"])
        self.vocab = {w: i for i, w in enumerate(self.words)}
        df = np.asarray(arrays["df"], dtype=np.float64)
        self.df = np.zeros(max(1024, len(df)), dtype=np.float64)
        self.df[: len(df)] = df
        self.topic_terms = {}
        topics = np.asarray(arrays["bag_topic"], dtype=np.int64)
        terms = np.asarray(arrays["bag_term"], dtype=np.int64)
        values = np.asarray(arrays["bag_value"], dtype=np.float64)
        for t, a, b in _runs(topics):  # stored as contiguous runs, in insertion order
            self.topic_terms[t] = (terms[a:b].copy(), values[a:b].copy())
        self.topic_mass = dict(
            zip(
                np.asarray(arrays["mass_topic"]).tolist(),
                np.asarray(arrays["mass_value"]).tolist(),
                strict=True,
            )
        )
        self.frozen = {
            int(t): [(str(w), float(v)) for w, v in kws] for t, kws in meta["frozen"].items()
        }

    # -- maintenance -----------------------------------------------------
    def _maybe_prune(self) -> None:
        """Drop the rarest half of the vocabulary when it outgrows ``max_vocab``."""
        n = len(self.words)
        if n <= self.max_vocab:
            return
        keep = np.argsort(-self.df[:n], kind="stable")[: self.max_vocab // 2]
        keep.sort()
        remap = np.full(n, -1, dtype=np.int64)
        remap[keep] = np.arange(len(keep))
        self.words = [self.words[i] for i in keep]
        self.vocab = {w: i for i, w in enumerate(self.words)}
        df = np.zeros(max(len(self.words), 1024), dtype=np.float64)
        df[: len(keep)] = self.df[keep]
        self.df = df
        for t, (ids, vals) in self.topic_terms.items():
            new_ids = remap[ids]
            kept = new_ids >= 0  # remap is monotone: kept ids stay sorted
            self.topic_terms[t] = (new_ids[kept], vals[kept])
