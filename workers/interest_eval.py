"""How well do user profiles predict a user's next post? (``topictrack eval``'s interest keys)

Protocol (docs/evaluation.md, docs/interests.md): replay in time order;
before each post by a user who posted in an earlier batch, rank topics by
that user's profile as it stands; then score

- the topic the post is assigned to when processed (topic level; a post
  left unassigned is a miss for every ranker), and
- the post's label, each ranked topic standing for its plurality label at
  that time (label level; duplicate labels count once, in rank order).

Baselines in the same run, each under its own prefix: ``baseline_trending_``
(the stream's decayed topic counts, the same list for everyone),
``baseline_last_topic_`` (the user's topics, most recent first),
``baseline_counts_`` (undecayed counts of the user's assigned topics). All
follow merges. ``reference_gold_profile_`` is the same profile computed
over gold labels as topics (label level only): what the profile would
reach if the topics were the labels, so the gap between it and
``interest_label_*`` is the topics' share of the gap to the stream's
gold-label reference (``reference_gold_counts_``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from workers.forward_decay import ForwardDecay
from workers.interests import InterestSettings, UserInterests
from workers.topic_types import UNASSIGNED, BatchResult, TopicEngine

#: Ranked list length: MRR is over the first RANK_DEPTH entries (0 past them).
RANK_DEPTH = 10
#: Half-life of the trending baseline's topic counts (the engine's 12 h).
TRENDING_HALF_LIFE_S = 12 * 3600.0
KEYS = ("recall_at_1", "recall_at_5", "mrr")
#: Weights beta of the profile's share against its dense vector's topic
#: distribution, scored side by side (``interest_blend`` in the report).
BLENDS = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0)


class _Scores:
    """Reciprocal ranks of hits (0 for a miss) at topic and label level."""

    def __init__(self) -> None:
        self.topic: list[float] = []
        self.label: list[float] = []

    @staticmethod
    def _rr(ranked: Sequence[Any], target: Any) -> float:
        for i, x in enumerate(ranked[:RANK_DEPTH]):
            if x == target:
                return 1.0 / (i + 1)
        return 0.0

    def add(self, topics: Sequence[int], labels: Sequence[str], topic: int, label: str) -> None:
        self.topic.append(self._rr(topics, topic) if topic != UNASSIGNED else 0.0)
        self.label.append(self._rr(labels, label))

    def report(self, prefix: str, users: int, topic_level: bool = True) -> dict[str, float]:
        out: dict[str, float] = {f"{prefix}predictions": len(self.label), f"{prefix}users": users}
        levels = (
            [("", self.topic), ("label_", self.label)] if topic_level else [("label_", self.label)]
        )
        for level, rr in levels:
            a = np.asarray(rr, dtype=np.float64)
            if len(a) == 0:
                a = np.zeros(1)
            out[f"{prefix}{level}recall_at_1"] = float(np.mean(a >= 1.0))
            out[f"{prefix}{level}recall_at_5"] = float(np.mean(a >= 0.2))
            out[f"{prefix}{level}mrr"] = float(np.mean(a))
        return out


class InterestReplay:
    """An ``on_batch`` hook for :func:`workers.evaluation.replay` scoring interest profiles.

    Called after each batch with the engine's result, it first ranks with
    the state as it stood before the batch, scores, then learns the batch.
    ``sweep`` holds extra half-lives scored in the same run.
    """

    def __init__(
        self,
        users: Sequence[str],
        labels: Sequence[str],
        ts: np.ndarray,
        embeddings: np.ndarray,
        ids: Sequence[str],
        settings: InterestSettings | None = None,
        sweep: Sequence[float] = (),
        engine: TopicEngine | None = None,
    ) -> None:
        self.users = list(users)
        self.labels = list(labels)
        self.ts = ts
        self.embeddings = embeddings
        self.ids = list(ids)
        self.settings = settings or InterestSettings()
        #: The live engine: a profile ranks topics by the mix of its shares and the
        #: engine's distribution of its dense interest vector (``predict_many``).
        self.engine = engine
        dim = embeddings.shape[1]
        self.profiles = UserInterests(dim, self.settings)
        self.sweep = {
            float(h): UserInterests(dim, _with_half_life(self.settings, h)) for h in sweep
        }
        names = sorted(set(self.labels))
        self.label_names = names
        self.label_index = {x: i for i, x in enumerate(names)}
        self.gold = UserInterests(1, self.settings)  # gold labels as topics, ids = index + 1
        self.seen: set[str] = set()
        self.scored_users: set[str] = set()
        self.scores = defaultdict(_Scores)
        self.alias: dict[int, int] = {}
        self.label_counts = np.zeros((64, len(names)), dtype=np.int64)  # topic x label
        self.trend_decay = ForwardDecay(TRENDING_HALF_LIFE_S)
        self.trend = np.zeros(64, dtype=np.float64)
        self.counts: dict[str, dict[int, int]] = defaultdict(dict)
        self.last: dict[str, list[int]] = defaultdict(list)
        self.gold_counts: dict[str, dict[int, int]] = defaultdict(dict)

    # -- helpers -----------------------------------------------------------
    def _resolve(self, topic: int) -> int:
        while topic in self.alias:
            topic = self.alias[topic]
        return topic

    def _grow(self, topic: int) -> None:
        if topic >= len(self.trend):
            size = max(topic + 1, 2 * len(self.trend))
            self.trend = np.r_[self.trend, np.zeros(size - len(self.trend))]
            extra = np.zeros((size - len(self.label_counts), len(self.label_names)), np.int64)
            self.label_counts = np.vstack([self.label_counts, extra])

    def _labels_of(self, topics: Sequence[int]) -> list[str]:
        out: list[str] = []
        for t in topics:
            if t == UNASSIGNED or t >= len(self.label_counts):
                continue
            row = self.label_counts[t]
            if row.sum() == 0:
                continue
            name = self.label_names[int(row.argmax())]
            if name not in out:
                out.append(name)
        return out

    def _user_ranking(self, table: dict[int, int]) -> list[int]:
        merged: dict[int, int] = defaultdict(int)
        for t, c in table.items():
            merged[self._resolve(t)] += c
        return sorted(merged, key=lambda t: (-merged[t], t))

    @staticmethod
    def _shares(prof: UserInterests, users: list[str]) -> list[dict[int, float]]:
        out = []
        for u in users:
            p = prof.profile(u, k_keywords=0)
            out.append(dict(zip(p.topic_ids, p.shares, strict=True)) if p else {})
        return out

    def _dense(self, prof: UserInterests, users: list[str]) -> list[dict[int, float]]:
        """The engine's top-k distribution of each user's interest vector (none without one)."""
        if self.engine is None:
            return [{} for _ in users]
        res = self.engine.predict_many(prof.vectors(users))
        return [
            {self._resolve(int(t)): float(p) for t, p in zip(ids, probs, strict=True) if t >= 0}
            for ids, probs in zip(res.topk_ids.tolist(), res.topk_probs.tolist(), strict=True)
        ]

    def _recent(self, topics: list[int]) -> list[int]:
        return list(dict.fromkeys(self._resolve(t) for t in reversed(topics)))

    # -- the hook ------------------------------------------------------------
    def __call__(self, start: int, stop: int, result: BatchResult, pred: np.ndarray) -> None:
        users = self.users[start:stop]
        ts = self.ts[start:stop]
        chosen = [
            self._resolve(int(t)) if t != UNASSIGNED else UNASSIGNED for t in result.topic_ids
        ]
        returning = [i for i, u in enumerate(users) if u and u in self.seen]
        if returning:
            self._score(returning, users, start, chosen)
        self._learn(start, stop, result, users, ts, chosen)

    def _score(self, returning: list[int], users: list[str], start: int, chosen: list[int]) -> None:
        who = [users[i] for i in returning]
        ranked = self.profiles.rank(who, RANK_DEPTH).tolist()
        shares = self._shares(self.profiles, who)
        dense = self._dense(self.profiles, who)
        beta = self.settings.rank_beta
        sweep = {
            h: [
                _blend(a, b, beta)
                for a, b in zip(self._shares(p, who), self._dense(p, who), strict=True)
            ]
            for h, p in self.sweep.items()
        }
        gold = self.gold.rank(who, RANK_DEPTH).tolist()
        trending = [int(t) for t in np.argsort(-self.trend, kind="stable")[:RANK_DEPTH]]
        trending = [t for t in trending if self.trend[t] > 0]
        trending_labels = self._labels_of(trending)
        for j, i in enumerate(returning):
            u = users[i]
            topic, label = chosen[i], self.labels[start + i]
            self.scored_users.add(u)
            own = [t for t in ranked[j] if t != UNASSIGNED]
            self.scores["sparse_only_"].add(own, self._labels_of(own), topic, label)
            mine = _blend(shares[j], dense[j], beta)
            self.scores["interest_"].add(mine, self._labels_of(mine), topic, label)
            if self.engine is not None:
                for b in BLENDS:
                    mixed = _blend(shares[j], dense[j], b)
                    self.scores[f"blend_{b:g}_"].add(mixed, self._labels_of(mixed), topic, label)
            for h, r in sweep.items():
                theirs = [t for t in r[j] if t != UNASSIGNED]
                self.scores[f"sweep_{h:g}_"].add(theirs, self._labels_of(theirs), topic, label)
            self.scores["baseline_trending_"].add(trending, trending_labels, topic, label)
            last = self._recent(self.last[u])
            self.scores["baseline_last_topic_"].add(last, self._labels_of(last), topic, label)
            counts = self._user_ranking(self.counts[u])
            self.scores["baseline_counts_"].add(counts, self._labels_of(counts), topic, label)
            g = [self.label_names[t - 1] for t in gold[j] if t != UNASSIGNED]
            self.scores["reference_gold_profile_"].add([], g, UNASSIGNED, label)
            gc = self._user_ranking(self.gold_counts[u])
            gcl = [self.label_names[t] for t in gc]
            self.scores["reference_gold_counts_"].add([], gcl, UNASSIGNED, label)

    def _learn(
        self,
        start: int,
        stop: int,
        result: BatchResult,
        users: list[str],
        ts: np.ndarray,
        chosen: list[int],
    ) -> None:
        emb = self.embeddings[start:stop]
        ids = self.ids[start:stop]
        for prof in (self.profiles, *self.sweep.values()):
            prof.observe(users, ts, emb, result, doc_ids=ids)
        lab = np.array([self.label_index[x] for x in self.labels[start:stop]], dtype=np.int64)
        gold = BatchResult(lab + 1, np.ones(len(lab)), (lab + 1)[:, None], np.ones((len(lab), 1)))
        self.gold.observe(users, ts, np.ones((len(lab), 1)), gold)
        for event in result.lineage:
            if event.kind == "merged" and event.other is not None:
                gone, keep = int(event.topic_id), int(event.other)
                self.alias[gone] = keep
                self._grow(max(gone, keep))
                self.label_counts[keep] += self.label_counts[gone]
                self.label_counts[gone] = 0
                self.trend[keep] += self.trend[gone]
                self.trend[gone] = 0.0
        factor = self.trend_decay.advance(float(ts.max()))
        self.trend *= factor
        w = self.trend_decay.weights(ts)
        for i, t in enumerate(chosen):
            u = users[i]
            if t != UNASSIGNED:
                self._grow(t)
                self.label_counts[t, lab[i]] += 1
                self.trend[t] += w[i]
                if u:
                    self.counts[u][t] = self.counts[u].get(t, 0) + 1
                    self.last[u].append(t)
            if u:
                self.gold_counts[u][int(lab[i])] = self.gold_counts[u].get(int(lab[i]), 0) + 1
                self.seen.add(u)

    def report(self) -> dict[str, Any]:
        """The interest keys of ``topictrack eval`` (docs/interests.md)."""
        n = len(self.scored_users)
        out: dict[str, Any] = {
            "interest_half_life_s": self.settings.half_life_s,
            "interest_rank_beta": self.settings.rank_beta,
        }
        for prefix in (
            "interest_",
            "sparse_only_",
            "baseline_trending_",
            "baseline_last_topic_",
            "baseline_counts_",
        ):
            out.update(self.scores[prefix].report(prefix, n))
        for prefix in ("reference_gold_profile_", "reference_gold_counts_"):
            out.update(self.scores[prefix].report(prefix, n, topic_level=False))
        if self.engine is not None:
            out["interest_blend"] = {
                f"{b:g}": self.scores[f"blend_{b:g}_"].report("", n) for b in BLENDS
            }
        if self.sweep:
            out["interest_sweep"] = {
                f"{h:g}": self.scores[f"sweep_{h:g}_"].report("", n) for h in self.sweep
            }
        return out


def _blend(share: dict[int, float], dense: dict[int, float], beta: float) -> list[int]:
    """Topics by ``beta * share + (1 - beta) * dense`` (the recommender's mix), best first.

    ``dense`` is the engine's top-k distribution of the user's interest
    vector; at ``beta = 1`` its topics still follow the user's own ones.
    """
    score = {t: beta * s for t, s in share.items()}
    for t, p in dense.items():
        score[t] = score.get(t, 0.0) + (1 - beta) * p
    return sorted(score, key=lambda t: (-score[t], t))[:RANK_DEPTH]


def _with_half_life(settings: InterestSettings, half_life_s: float) -> InterestSettings:
    return replace(settings, half_life_s=float(half_life_s))
