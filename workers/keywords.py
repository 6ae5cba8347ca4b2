"""Online class-based TF-IDF keywords with event-time decay.

Each topic keeps decayed per-term document counts; the whole stream keeps
decayed per-term document frequencies. A term's score in topic ``c`` is
BERTopic's c-TF-IDF, ``tf(t, c) / |c| * log(1 + A / f(t))`` with ``A`` the
mean topic mass and ``f(t)`` the term's mass over all documents, so words
common everywhere (``help``, ``news``) sink and words particular to a topic
rise.

Decay uses *forward decay*: a document at event time ``t`` adds
``exp(lambda * (t - landmark))`` instead of every count being multiplied down
at each step. Ratios between counts are then exact decayed ratios, and
nothing has to be touched per batch. The engine owns the landmark and calls
:meth:`KeywordModel.rescale` when it moves it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Terms kept in the vocabulary before the rarest are pruned. Bounds memory
#: on endless streams (hashtags and typos keep arriving forever).
MAX_VOCAB = 200_000
#: Smallest share of a topic's documents a term must appear in to be a keyword.
MIN_TERM_SHARE = 0.01


class KeywordModel:
    """Decayed per-topic term statistics and c-TF-IDF keyword ranking."""

    def __init__(self, max_vocab: int = MAX_VOCAB) -> None:
        self.max_vocab = max_vocab
        self.vocab: dict[str, int] = {}
        self.words: list[str] = []
        self.df = np.zeros(1024, dtype=np.float64)  # decayed doc frequency per term id
        self.topic_terms: dict[int, dict[int, float]] = {}
        self.topic_mass: dict[int, float] = {}  # decayed documents per topic

    # -- updates ---------------------------------------------------------
    def term_ids(self, terms: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """Map each document's terms to unique ids, growing the vocabulary."""
        vocab = self.vocab
        out = []
        for doc in terms:
            ids = []
            for w in set(doc):
                i = vocab.get(w)
                if i is None:
                    i = len(self.words)
                    vocab[w] = i
                    self.words.append(w)
                ids.append(i)
            out.append(np.asarray(ids, dtype=np.int64))
        if len(self.words) > len(self.df):
            grown = np.zeros(max(len(self.words), 2 * len(self.df)), dtype=np.float64)
            grown[: len(self.df)] = self.df
            self.df = grown
        return out

    def add(self, topic_ids: np.ndarray, weights: np.ndarray, term_ids: list[np.ndarray]) -> None:
        """Fold a batch in: ``topic_ids[i]`` (negative = no topic) got document ``i``.

        ``weights`` are forward-decay weights. Every document counts towards
        the global frequencies; assigned ones also towards their topic.
        """
        if not term_ids:
            return
        lengths = np.fromiter((len(t) for t in term_ids), dtype=np.int64, count=len(term_ids))
        if lengths.sum() == 0:
            return
        flat = np.concatenate(term_ids)
        w_flat = np.repeat(weights, lengths)
        np.add.at(self.df, flat, w_flat)
        topic_flat = np.repeat(topic_ids, lengths)
        keep = topic_flat >= 0
        if not keep.any():
            return
        for t in np.unique(topic_ids[topic_ids >= 0]):
            self.topic_mass[int(t)] = self.topic_mass.get(int(t), 0.0) + float(
                weights[topic_ids == t].sum()
            )
        # Aggregate (topic, term) pairs in numpy, then touch each dict once per pair.
        key = topic_flat[keep] * (1 << 32) + flat[keep]
        uniq, inverse = np.unique(key, return_inverse=True)
        sums = np.bincount(inverse, weights=w_flat[keep])
        topics = (uniq >> 32).tolist()
        terms = (uniq & 0xFFFFFFFF).tolist()
        current_topic, bag = None, None
        for t, term, s in zip(topics, terms, sums.tolist(), strict=True):
            if t != current_topic:
                current_topic = t
                bag = self.topic_terms.setdefault(t, {})
            bag[term] = bag.get(term, 0.0) + s
        self._maybe_prune()

    def add_to_topic(self, topic_id: int, weights: np.ndarray, term_ids: list[np.ndarray]) -> None:
        """Count earlier-seen documents (already in the global frequencies) into a topic."""
        bag = self.topic_terms.setdefault(topic_id, {})
        for ids, w in zip(term_ids, weights.tolist(), strict=True):
            for term in ids.tolist():
                bag[term] = bag.get(term, 0.0) + w
        self.topic_mass[topic_id] = self.topic_mass.get(topic_id, 0.0) + float(weights.sum())

    def merge(self, src: int, dst: int) -> None:
        """Add topic ``src``'s statistics into ``dst`` (a topic merge)."""
        bag = self.topic_terms.pop(src, {})
        into = self.topic_terms.setdefault(dst, {})
        for term, s in bag.items():
            into[term] = into.get(term, 0.0) + s
        self.topic_mass[dst] = self.topic_mass.get(dst, 0.0) + self.topic_mass.pop(src, 0.0)

    def move_share(self, src: int, dst: int, share: float) -> None:
        """Give ``dst`` a ``share`` of ``src``'s statistics (a split's child)."""
        bag = self.topic_terms.get(src, {})
        self.topic_terms[dst] = {t: s * share for t, s in bag.items()}
        for t in bag:
            bag[t] *= 1.0 - share
        mass = self.topic_mass.get(src, 0.0)
        self.topic_mass[dst] = mass * share
        self.topic_mass[src] = mass * (1.0 - share)

    def drop(self, topic_id: int) -> None:
        """Forget a topic's statistics (archived topics)."""
        self.topic_terms.pop(topic_id, None)
        self.topic_mass.pop(topic_id, None)

    def rescale(self, factor: float) -> None:
        """Multiply every stored mass by ``factor`` (the engine moved its decay landmark)."""
        self.df *= factor
        for bag in self.topic_terms.values():
            for t in bag:
                bag[t] *= factor
        for t in self.topic_mass:
            self.topic_mass[t] *= factor

    # -- queries ---------------------------------------------------------
    def keywords(self, topic_id: int, k: int = 10) -> list[tuple[str, float]]:
        """Top ``k`` (term, c-TF-IDF score) for a topic, best first."""
        bag = self.topic_terms.get(topic_id)
        if not bag:
            return []
        mass = self.topic_mass.get(topic_id, 0.0)
        masses = [m for m in self.topic_mass.values() if m > 0]
        avg_mass = float(np.mean(masses)) if masses else 1.0
        ids = np.fromiter(bag.keys(), dtype=np.int64, count=len(bag))
        tf = np.fromiter(bag.values(), dtype=np.float64, count=len(bag))
        # A term in under 1% of a topic's (decayed) documents is an accident of
        # a few posts, not what the topic is about; tiny topics keep all terms.
        usable = tf >= min(MIN_TERM_SHARE * mass, tf.max())
        ids, tf = ids[usable], tf[usable]
        score = (tf / max(mass, 1e-300)) * np.log1p(avg_mass / np.maximum(self.df[ids], 1e-300))
        top = np.argsort(-score)[:k]
        return [(self.words[int(ids[i])], float(score[i])) for i in top]

    # -- snapshot ----------------------------------------------------------
    def state(self) -> dict[str, object]:
        """Flat arrays (and the word list) that rebuild the model exactly."""
        topics, terms, values = [], [], []
        for t, bag in self.topic_terms.items():
            topics.extend([t] * len(bag))
            terms.extend(bag.keys())
            values.extend(bag.values())
        return {
            "words": list(self.words),
            "df": self.df[: len(self.words)].copy(),
            "bag_topic": np.asarray(topics, dtype=np.int64),
            "bag_term": np.asarray(terms, dtype=np.int64),
            "bag_value": np.asarray(values, dtype=np.float64),
            "mass_topic": np.asarray(list(self.topic_mass.keys()), dtype=np.int64),
            "mass_value": np.asarray(list(self.topic_mass.values()), dtype=np.float64),
        }

    def load(self, state: dict[str, object]) -> None:
        self.words = list(state["words"])  # type: ignore[call-overload]
        self.vocab = {w: i for i, w in enumerate(self.words)}
        df = np.asarray(state["df"], dtype=np.float64)
        self.df = np.zeros(max(1024, len(df)), dtype=np.float64)
        self.df[: len(df)] = df
        self.topic_terms = {}
        for t, term, v in zip(
            np.asarray(state["bag_topic"]).tolist(),
            np.asarray(state["bag_term"]).tolist(),
            np.asarray(state["bag_value"]).tolist(),
            strict=True,
        ):
            self.topic_terms.setdefault(t, {})[term] = v
        self.topic_mass = dict(
            zip(
                np.asarray(state["mass_topic"]).tolist(),
                np.asarray(state["mass_value"]).tolist(),
                strict=True,
            )
        )

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
        for t, bag in self.topic_terms.items():
            self.topic_terms[t] = {
                int(remap[term]): s for term, s in bag.items() if remap[term] >= 0
            }
