"""The online topic engine: batched, event-time, with birth, merge, split and dormancy.

One engine owns the topics of one stream key. Per micro-batch it does:

1. **assign** — one matrix product of the batch against the live centroids;
   a document joins its nearest topic at ``assign_threshold`` (higher for a
   topic that has been idle) or waits in the outlier buffer;
2. **update** — decayed sums, weights and sizes of the touched topics, with
   forward decay in event time (no per-step multiplication of every topic);
3. **drift** — a river detector per topic on its posts' similarity to it;
   a detected change splits the topic or refreshes its centroid;
4. **birth** — groups of agreeing buffered documents become topics (or wake
   a dormant topic they match); a newborn topic takes back the recent posts
   that older topics took but that fit it better (late assignments);
5. **merge** — touched topics that converged onto another live topic merge
   into the heavier one, recorded as lineage;
6. **dormancy** — topics whose decayed weight fell below one document leave
   the live set (kept, can wake); the live set is capped.

Topic ids are issued once and never reused or renumbered.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from workers import npz_blob
from workers.blas import single_threaded_blas
from workers.drift import DriftMonitor, plan_split
from workers.emerging_terms import EmergingTerms
from workers.engine_config import EngineConfig
from workers.forward_decay import ForwardDecay
from workers.keywords import KeywordModel
from workers.outlier_buffer import BufferedDocs, OutlierBuffer
from workers.recent_docs import RecentDocs
from workers.same_source import same_topic_threshold
from workers.similarity_scale import SimilarityScale
from workers.tokenize import tokenize_many
from workers.topic_examples import TopicExamples
from workers.topic_matrix import TopicMatrix
from workers.topic_table import ACTIVE, ARCHIVED, DORMANT, MERGED, TopicTable
from workers.topic_types import (
    UNASSIGNED,
    BatchResult,
    LateAssignment,
    LineageEvent,
    TopicView,
)

#: Tag of :meth:`TopicTrackEngine.snapshot` blobs: each part's state under its
#: name (see :func:`workers.npz_blob.pack_parts`).
SNAPSHOT_FORMAT = "topictrack-engine/3"
#: Format 2 had no similarity scale (it starts measuring afresh); still restored.
SNAPSHOT_FORMAT_V2 = "topictrack-engine/2"
#: The format before the parts wrote their own state; still restored.
SNAPSHOT_FORMAT_V1 = "topictrack-engine/1"
#: Cosine distance a topic's centroid must move before it is tested for a
#: merge again: a stable topic costs no merge test per batch.
MERGE_RECHECK_DISTANCE = 0.002
#: Most recent posts of a drifted topic examined for a split.
SPLIT_WINDOW = 512


def _few_rows_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b.T`` for a handful of rows in ``a``.

    OpenBLAS's sgemm is slow for very few rows (measured here: 5 x 384 @
    384 x 1000 took 0.55 ms, a single row 0.04 ms), so a few rows go
    through matrix-vector products.
    """
    if len(a) > 8:
        return a @ b.T
    out = np.empty((len(a), len(b)), dtype=np.float32)
    for i in range(len(a)):
        out[i] = b @ a[i]
    return out


class TopicTrackEngine:
    """Online topic engine over L2-normalised embeddings (see module docstring).

    The design and the measured reasons for its defaults are in
    ``docs/engine.md``.

    Parameters
    ----------
    dim
        Embedding dimension of the model feeding it.
    config
        Its settings; :class:`~workers.engine_config.EngineConfig` defaults
        when omitted.

    Examples
    --------
    Five posts that agree give birth to a topic; later posts join it:

    >>> import numpy as np
    >>> from workers import TopicTrackEngine
    >>> rng = np.random.default_rng(7)
    >>> story = rng.standard_normal(384)
    >>> def posts(n):
    ...     x = story + 0.5 * rng.standard_normal((n, 384))
    ...     return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    >>> engine = TopicTrackEngine(dim=384)
    >>> first = engine.learn_many(posts(5), 60.0 * np.arange(5), ["bridge closed"] * 5)
    >>> [(e.kind, e.topic_id) for e in first.lineage], first.topic_ids.tolist()
    ([('born', 1)], [1, 1, 1, 1, 1])
    >>> later = engine.learn_many(posts(3), np.full(3, 600.0), ["bridge reopens"] * 3)
    >>> later.topic_ids.tolist(), bool((later.similarity > 0.5).all())
    ([1, 1, 1], True)

    A snapshot restores to an engine that carries on exactly as the original:

    >>> twin = TopicTrackEngine.restore(engine.snapshot())
    >>> x, ts = posts(4), np.full(4, 900.0)
    >>> a = engine.learn_many(x, ts, ["bridge"] * 4)
    >>> b = twin.learn_many(x, ts, ["bridge"] * 4)
    >>> np.array_equal(a.topk_probs, b.topk_probs), twin.topic(1).size == engine.topic(1).size
    (True, True)
    >>> engine.predict_many(posts(2)).topic_ids.tolist()  # assign without learning
    [1, 1]
    """

    name = "topictrack"

    def __init__(self, dim: int = 384, config: EngineConfig | None = None) -> None:
        self.dim = dim
        self.config = config or EngineConfig()
        c = self.config
        # Centroids and weights fade with the half-life; keyword counts, slower,
        # with theirs, from the same landmark.
        self.decay = ForwardDecay(c.half_life_s)
        self.keyword_decay = self.decay.sibling(c.keyword_half_life_s)
        self.table = TopicTable()
        self.live = TopicMatrix(dim)
        self.dormant = TopicMatrix(dim)
        self.buffer = OutlierBuffer(dim, c.buffer_size, c.buffer_ttl_s, c.birth_threshold)
        self.recent = RecentDocs(dim, c.recent_capacity)
        self.keywords = KeywordModel()
        self.examples = TopicExamples(c.n_examples)
        self.drift = DriftMonitor(c.drift_detector)
        self.scale = SimilarityScale(
            dim, c.similarity_reference, c.similarity_floor, k=c.similarity_neighbour
        )
        self.emerging = EmergingTerms(
            c.split_term_window, c.split_term_min_docs, c.split_term_min_prior, c.split_term_share
        )
        self._last_ts = -math.inf
        self.n_docs = 0
        self.n_unassigned_at_arrival = 0
        self.n_late_assigned = 0
        self.n_expired = 0
        self.n_reclaimed = 0  # assigned posts moved to a newborn topic afterwards

    # ------------------------------------------------------------------ API
    @property
    def last_ts(self) -> float:
        return self._last_ts

    def learn_many(
        self,
        embeddings: np.ndarray,
        ts: np.ndarray,
        texts: list[str],
        doc_ids: list[str] | None = None,
        terms: list[list[str]] | None = None,
    ) -> BatchResult:
        """Assign a micro-batch and update the topics.

        Parameters
        ----------
        embeddings:
            ``(n, dim)`` L2-normalised vectors.
        ts:
            ``(n,)`` event times, epoch seconds.
        texts:
            The documents (kept as examples and for keywords).
        doc_ids:
            Ids reported back in late assignments; positions when omitted.
        terms:
            Keyword terms per document, when the caller tokenised already
            (``topictrack eval`` does, once per stream, outside the engine's
            timing); ``None``: tokenised here with
            :func:`workers.tokenize.tokenize_many` (the pipeline's ``track``
            stage passes none).

        Returns
        -------
        BatchResult
            Each post's topic (``UNASSIGNED`` while it waits in the buffer),
            top-k, late assignments, changed topics and lineage.
        """
        with single_threaded_blas():
            return self._learn_many(embeddings, ts, texts, doc_ids, terms)

    def _learn_many(
        self,
        embeddings: np.ndarray,
        ts: np.ndarray,
        texts: list[str],
        doc_ids: list[str] | None,
        terms: list[list[str]] | None,
    ) -> BatchResult:
        """See :meth:`learn_many` (runs inside a one-thread BLAS block)."""
        x = np.ascontiguousarray(embeddings, dtype=np.float32)
        ts = np.asarray(ts, dtype=np.float64)
        n = len(x)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"embeddings must have shape (n, {self.dim}), got {x.shape}")
        if len(ts) != n or len(texts) != n:
            raise ValueError("embeddings, ts and texts must have the same length")
        if doc_ids is None:
            doc_ids = [str(self.n_docs + i) for i in range(n)]
        if n == 0:
            return self._empty_result(0)
        if terms is None:
            terms = tokenize_many(texts)
        now = float(ts.max())
        self._advance_landmark(now)
        fw = self.decay.weights(ts)
        self.scale.observe(x)
        self.buffer.threshold = self._birth_threshold()

        changed: set[int] = set()
        lineage: list[LineageEvent] = []
        topic_ids = np.full(n, UNASSIGNED, dtype=np.int64)
        sims = np.zeros(n, dtype=np.float32)
        ring_pos = np.full(n, -1, dtype=np.int64)  # where assigned docs sit in the recent ring

        # 1. assign against the live set
        scores: np.ndarray | None = None
        scored_ids = self.live.live_ids.copy()
        if len(self.live):
            scores = self._live_scores(x, ts)
            best = np.argmax(scores, axis=1)
            sims = scores[np.arange(n), best]
            hit = sims >= self._join_threshold(best, ts)
            self._yield_to_forming_stories(x, sims, hit)
            topic_ids[hit] = self.live.live_ids[best[hit]]
            # 2. update sums, weights, sizes of touched topics
            touched = self._absorb(x[hit], ts[hit], fw[hit], best[hit])
            hit_ids = [doc_ids[i] for i in np.flatnonzero(hit)]
            ring_pos[hit] = self.recent.add(x[hit], topic_ids[hit], ts[hit], hit_ids)
            # 3. drift per touched topic
            for t in self.drift.update(topic_ids[hit], sims[hit]):
                lineage.extend(self._on_drift(t, now, changed))
            changed.update(touched)

        # 4. birth from the buffer
        unassigned = np.flatnonzero(topic_ids == UNASSIGNED)
        self.buffer.add(
            x[unassigned],
            ts[unassigned],
            [doc_ids[i] for i in unassigned],
            [texts[i] for i in unassigned],
            [terms[i] for i in unassigned],
            unassigned,
        )
        late: list[LateAssignment] = []
        newborn: list[int] = []
        for group in self.buffer.pop_groups(self.config.min_topic_size, self._assign_threshold()):
            tid, events = self._found(group, now)
            lineage.extend(events)
            changed.add(tid)
            newborn.append(tid)
            here = group.batch_pos >= 0
            centroid = self.live.centroids[self.live.slot[tid]]
            group_sims = group.emb @ centroid
            topic_ids[group.batch_pos[here]] = tid
            sims[group.batch_pos[here]] = group_sims[here]
            if (~here).any():
                late.append(
                    LateAssignment(
                        doc_ids=[d for d, h in zip(group.doc_ids, here, strict=True) if not h],
                        topic_id=tid,
                        similarity=group_sims[~here].astype(np.float32),
                        ts=group.ts[~here].copy(),
                    )
                )
                self.n_late_assigned += int((~here).sum())
        self.n_expired += self.buffer.expire(now)
        self._reconsider(x, ts, fw, topic_ids, sims, newborn, ring_pos)
        late.extend(self._reclaim(newborn, now, ring_pos))
        if len(self.live):
            self.examples.offer_batch(topic_ids, sims, texts)
        if self.config.split_term_min_docs > 0:
            lineage.extend(self._split_new_events(topic_ids, terms, doc_ids, now, changed))

        # keywords: every document counts for global frequencies; assigned ones for topics
        self.keywords.add(topic_ids, self.keyword_decay.weights(ts), terms)

        # 5. merge converged topics, 6. dormancy
        lineage.extend(self._merge_touched(changed, now))
        lineage.extend(self._retire(now))

        self.n_docs += n
        # Buffered documents of earlier batches were counted in their own batch.
        waiting = topic_ids == UNASSIGNED
        self.n_unassigned_at_arrival += int(waiting.sum())
        self.scale.note_unassigned(waiting)
        self._last_ts = max(self._last_ts, now)
        # Every topic whose identity changed is published, a merged or faded one
        # too: its row with status and merged_into is how the store, the trending
        # SQL and the lineage tree learn of it. Archived topics are not (their
        # words and posts were dropped; the store keeps their last snapshot).
        changed.update(e.topic_id for e in lineage)
        changed_ids = sorted(t for t in changed if self.table.status[t] != ARCHIVED)
        for t in changed_ids:
            self.table.version[t] += 1
        topk_ids, topk_probs = self._distribution(x, ts, topic_ids, sims, scores, scored_ids)
        return BatchResult(
            topic_ids=topic_ids,
            similarity=sims.astype(np.float32),
            topk_ids=topk_ids,
            topk_probs=topk_probs,
            late=late,
            changed=changed_ids,
            lineage=lineage,
        )

    def predict_many(self, embeddings: np.ndarray) -> BatchResult:
        """Nearest live topic and top-k distribution, without changing any state."""
        x = np.ascontiguousarray(embeddings, dtype=np.float32)
        n = len(x)
        if n == 0 or not len(self.live):
            return self._empty_result(n)
        scores = self._live_scores(x, np.full(n, self._last_ts))
        best = np.argmax(scores, axis=1)
        sims = scores[np.arange(n), best]
        topic_ids = np.where(
            sims >= self._join_threshold(best, np.full(n, self._last_ts)),
            self.live.live_ids[best],
            UNASSIGNED,
        )
        topk_ids, topk_probs = self._distribution(x, np.full(n, self._last_ts), topic_ids, sims)
        return BatchResult(topic_ids, sims.astype(np.float32), topk_ids, topk_probs)

    def topic(self, topic_id: int) -> TopicView:
        """Current view of any topic ever issued."""
        m = self.table
        if topic_id not in m:
            raise KeyError(f"no topic {topic_id}")
        if topic_id in self.live:
            mat = self.live
        elif topic_id in self.dormant:
            mat = self.dormant
        else:
            mat = None
        if mat is not None:
            row = mat.slot[topic_id]
            centroid = mat.centroids[row].copy()
            weight = float(mat.weight[row]) * self.decay.factor_to(self._last_ts)
        else:
            centroid = np.zeros(self.dim, dtype=np.float32)
            weight = 0.0
        kw = self.keywords.keywords(topic_id, self.config.n_keywords)
        words = [w for w, _ in kw]
        return TopicView(
            topic_id=topic_id,
            version=int(m.version[topic_id]),
            born_at=float(m.born_at[topic_id]),
            updated_at=float(m.updated_at[topic_id]),
            size=int(m.size[topic_id]),
            weight=weight,
            centroid=centroid,
            keywords=words,
            keyword_scores=[s for _, s in kw],
            label=" · ".join(words[:3]) if words else f"topic {topic_id}",
            status=m.status_name(topic_id),
            merged_into=m.edge("merged_into", topic_id),
            split_from=m.edge("split_from", topic_id),
            examples=self.examples.of(topic_id),
        )

    def topics(self, include_inactive: bool = False) -> list[TopicView]:
        """Views of live topics (and dormant/merged ones if asked), heaviest first."""
        ids = list(self.live.live_ids.tolist())
        if include_inactive:
            ids = list(self.table.ids)
        views = [self.topic(int(t)) for t in ids]
        return sorted(views, key=lambda v: (-v.weight, v.topic_id))

    def stats(self) -> dict[str, float]:
        return {
            "docs": self.n_docs,
            "live_topics": len(self.live),
            "dormant_topics": len(self.dormant),
            "topics_ever": self.table.next_id - 1,
            "buffered": len(self.buffer),
            "unassigned_share_at_arrival": self.n_unassigned_at_arrival / max(self.n_docs, 1),
            "unassigned_share": (self.n_unassigned_at_arrival - self.n_late_assigned)
            / max(self.n_docs, 1),
            "reclaimed": self.n_reclaimed,
        }

    def hierarchy(self) -> dict[str, Any]:
        """Agglomerative tree over live and dormant centroids (computed on demand)."""
        from workers.hierarchy import topic_hierarchy

        ids = np.concatenate([self.live.live_ids, self.dormant.live_ids])
        cents = np.concatenate([self.live.live_centroids, self.dormant.live_centroids])
        labels = {int(t): self.topic(int(t)).label for t in ids}
        return topic_hierarchy(ids, cents, labels)

    # ------------------------------------------------------------ internals
    def _empty_result(self, n: int) -> BatchResult:
        k = self.config.top_k
        return BatchResult(
            topic_ids=np.full(n, UNASSIGNED, dtype=np.int64),
            similarity=np.zeros(n, dtype=np.float32),
            topk_ids=np.full((n, k), UNASSIGNED, dtype=np.int64),
            topk_probs=np.zeros((n, k), dtype=np.float32),
        )

    def _live_scores(self, x: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """Cosines to live centroids, ``-inf`` where a topic had faded by the document's time.

        The live set is pruned once per batch, but a batch can span hours of
        event time: each document only sees topics whose decayed weight at
        *its own* time is still at least ``dormant_weight``.
        """
        scores = x @ self.live.live_centroids.T
        log_w = np.log(np.maximum(self.live.weight[: self.live.n], 1e-300))
        age = self.decay.exponents(ts)
        floor = math.log(self.config.dormant_weight)
        if log_w.min() - age.max() >= floor:
            return scores  # every topic is still alive at the batch's latest time
        np.putmask(scores, log_w[None, :] - age[:, None] < floor, -np.inf)
        return scores

    def _yield_to_forming_stories(self, x: np.ndarray, sims: np.ndarray, hit: np.ndarray) -> None:
        """Send loose joiners that agree with a group forming in the buffer there instead.

        A post that joins its topic below ``birth_threshold`` but agrees (at
        that cosine) with ``forming_agree`` waiting posts belongs to a story
        gathering in the buffer more than to the older topic: joined there,
        the story's posts would feed the older topic one by one and never
        reach the five a birth needs. Clears those posts' ``hit`` in place.
        """
        k = self.config.forming_agree
        if k <= 0 or not len(self.buffer):
            return
        birth = self._birth_threshold()
        loose = np.flatnonzero(hit & (sims < birth))
        if len(loose) == 0:
            return
        agree = (x[loose] @ self.buffer.emb.T >= birth).sum(axis=1)
        hit[loose[agree >= k]] = False

    def _join_threshold(self, rows: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """Cosine each post needs to join the live topic at ``rows``: higher for idle topics.

        ``assign_threshold`` plus ``idle_penalty`` scaled by how long the
        topic had been quiet at the post's time, in full after
        ``idle_penalty_after_s``. The fading tail of an old story should not
        absorb the first posts of a new story of the same kind: those must
        gather in the buffer and be born as their own topic.
        """
        c = self.config
        idle = ts - self.table.updated_at[self.live.ids[rows]]
        penalty = c.idle_penalty * self.scale.factor
        return self._assign_threshold() + penalty * np.clip(idle / c.idle_penalty_after_s, 0, 1)

    def _assign_threshold(self) -> float:
        """``assign_threshold`` on this stream's similarity scale (workers.similarity_scale)."""
        return self.config.assign_threshold * self.scale.factor

    def _birth_threshold(self) -> float:
        """``birth_threshold`` on this stream's similarity scale."""
        return self.config.birth_threshold * self.scale.factor

    def _advance_landmark(self, now: float) -> None:
        """Move the decay landmark when due, rescaling every stored decayed sum once."""
        factor = self.decay.advance(now)
        if factor == 1.0:
            return
        self.live.scale(factor)
        self.dormant.scale(factor)
        self.keywords.rescale(self.decay.sibling_factor(self.keyword_decay, factor))

    def _absorb(
        self, x: np.ndarray, ts: np.ndarray, fw: np.ndarray, rows: np.ndarray, sign: int = 1
    ) -> list[int]:
        """Add (``sign=-1``: take back) documents into live rows; return the touched ids."""
        if len(rows) == 0:
            return []
        order = np.argsort(rows, kind="stable")
        rows_sorted = rows[order]
        starts = np.flatnonzero(np.r_[True, rows_sorted[1:] != rows_sorted[:-1]])
        uniq = rows_sorted[starts]
        weighted = x[order].astype(np.float64) * fw[order, None]
        self.live.sums[uniq] += sign * np.add.reduceat(weighted, starts, axis=0)
        self.live.weight[uniq] += sign * np.add.reduceat(fw[order], starts)
        self.live.refresh_rows(uniq)
        ids = self.live.ids[uniq]
        counts = np.diff(np.r_[starts, len(rows_sorted)])
        self.table.size[ids] += sign * counts
        if sign > 0:
            last = np.maximum.reduceat(ts[order], starts)
            self.table.updated_at[ids] = np.maximum(self.table.updated_at[ids], last)
        return ids.tolist()

    def _reconsider(
        self,
        x: np.ndarray,
        ts: np.ndarray,
        fw: np.ndarray,
        topic_ids: np.ndarray,
        sims: np.ndarray,
        newborn: list[int],
        ring_pos: np.ndarray,
    ) -> None:
        """Move this batch's documents to a topic born in this batch when it fits them better.

        Documents are matched against the centroids as they stood when the
        batch began; a story born at the batch's end would otherwise lose its
        own early posts to an older, looser topic, and results would depend
        on the batch size.
        """
        newborn = [t for t in newborn if t in self.live]
        cand = np.flatnonzero((topic_ids != UNASSIGNED) & ~np.isin(topic_ids, newborn))
        if not newborn or len(cand) == 0:
            return
        to_rows, best_sim = self._nearest_newborn(x[cand], newborn)
        move = best_sim > sims[cand]
        if not move.any():
            return
        docs = cand[move]
        old_rows = self._live_rows(topic_ids[docs])
        alive = old_rows >= 0  # the old topic may have merged away meanwhile
        docs, old_rows = docs[alive], old_rows[alive]
        to_rows, best_sim = to_rows[move][alive], best_sim[move][alive]
        self._move(x[docs], ts[docs], fw[docs], old_rows, to_rows)
        topic_ids[docs] = self.live.ids[to_rows]
        sims[docs] = best_sim
        in_ring = ring_pos[docs]
        self.recent.topic[in_ring[in_ring >= 0]] = topic_ids[docs][in_ring >= 0]

    def _nearest_newborn(self, x: np.ndarray, newborn: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Live row of the newborn topic closest to each post, and that cosine."""
        new_rows = np.array([self.live.slot[t] for t in newborn])
        s_new = x @ self.live.centroids[new_rows].T
        best = np.argmax(s_new, axis=1)
        return new_rows[best], s_new[np.arange(len(x)), best]

    def _live_rows(self, topic_ids: np.ndarray) -> np.ndarray:
        """Live-set row of each topic id; -1 for a topic no longer live."""
        return np.array([self.live.slot.get(int(t), -1) for t in topic_ids], dtype=np.int64)

    def _move(
        self,
        x: np.ndarray,
        ts: np.ndarray,
        fw: np.ndarray,
        from_rows: np.ndarray,
        to_rows: np.ndarray,
    ) -> None:
        """Take posts out of the live rows ``from_rows`` and add them to ``to_rows``."""
        self._absorb(x, ts, fw, from_rows, sign=-1)
        self._absorb(x, ts, fw, to_rows)

    def _reclaim(
        self, newborn: list[int], now: float, ring_pos: np.ndarray
    ) -> list[LateAssignment]:
        """Move recent posts of older topics to a newborn topic that fits them better.

        :meth:`_reconsider` does this within the batch; this does it for the
        posts of the last ``reclaim_window_s`` before it. Without it, results
        depend on the batch size: processed a few posts at a time (a live
        stream), the first posts of a new story join an older topic of the
        same kind before the story has a topic of its own, and that topic's
        centroid then keeps pulling the story's later posts. Their keyword
        counts stay where they were first counted and fade from there.
        """
        c = self.config
        newborn = [t for t in newborn if t in self.live]
        if not newborn or c.reclaim_window_s <= 0:
            return []
        ring = self.recent
        mask = (ring.ts >= now - c.reclaim_window_s) & (ring.topic != UNASSIGNED)
        mask &= ~np.isin(ring.topic, newborn)
        mask[ring_pos[ring_pos >= 0]] = False  # this batch's posts: _reconsider's job
        cand = np.flatnonzero(mask)
        if len(cand) == 0:
            return []
        old_rows = self._live_rows(ring.topic[cand])
        alive = old_rows >= 0  # posts of dormant topics stay where they are
        cand, old_rows = cand[alive], old_rows[alive]
        if len(cand) == 0:
            return []
        x = ring.emb[cand].astype(np.float32)
        to_rows, best_sim = self._nearest_newborn(x, newborn)
        s_old = np.einsum("ij,ij->i", x, self.live.centroids[old_rows])
        move = (best_sim > s_old) & (best_sim >= self._assign_threshold())
        if not move.any():
            return []
        cand, to_rows, best_sim = cand[move], to_rows[move], best_sim[move]
        ts = ring.ts[cand]
        fw = self.decay.weights(ts)
        self._move(x[move], ts, fw, old_rows[move], to_rows)
        to_ids = self.live.ids[to_rows]
        from_ids = ring.topic[cand].copy()
        ring.topic[cand] = to_ids
        self.n_reclaimed += len(cand)
        late = []
        for tid in np.unique(to_ids).tolist():
            sel = to_ids == tid
            late.append(
                LateAssignment(
                    doc_ids=[str(d) for d in ring.doc_ids[cand[sel]]],
                    topic_id=int(tid),
                    similarity=best_sim[sel].astype(np.float32),
                    ts=ts[sel].copy(),
                    previous=from_ids[sel],
                )
            )
        return late

    def _found(self, group: BufferedDocs, now: float) -> tuple[int, list[LineageEvent]]:
        """Turn a buffer group into a topic: wake a dormant match, join a live one, or birth."""
        fw = self.decay.weights(group.ts)
        vec_sum = (group.emb.astype(np.float64) * fw[:, None]).sum(axis=0)
        # The group's shape from weights rebased on its newest post: posts far
        # older than the landmark have forward weights that underflow to 0, and
        # the centroid and the squared norm of the mean are scale-free anyway.
        rel = np.exp(self.decay.exponents(group.ts) - self.decay.exponents(group.ts).max())
        rel_sum = (group.emb.astype(np.float64) * rel[:, None]).sum(axis=0)
        centroid = (rel_sum / max(float(np.linalg.norm(rel_sum)), 1e-30)).astype(np.float32)
        events: list[LineageEvent] = []
        n_g = np.array([float(len(group.ts))])
        sq_g = np.array([float(rel_sum @ rel_sum) / float(rel.sum()) ** 2])
        tid = None
        if len(self.live):
            j = self._best_same_topic(self.live, np.arange(len(self.live)), centroid, n_g, sq_g)
            if j is not None:
                tid = int(self.live.ids[j])
        if tid is None and len(self.dormant):
            recent = self.table.updated_at[self.dormant.live_ids] >= now - self.config.wake_window_s
            j = self._best_same_topic(self.dormant, np.flatnonzero(recent), centroid, n_g, sq_g)
            if j is not None:
                tid = int(self.dormant.ids[j])
                d_sum, d_w = self.dormant.remove(tid)
                self.live.add(tid, d_sum, d_w)
                self.keywords.thaw(tid)
                self.table.status[tid] = ACTIVE
                events.append(LineageEvent("woke", tid, now))
        if tid is None:
            tid = self.table.new_id(float(group.ts.min()))
            self.live.add(tid, np.zeros(self.dim), 0.0)
            events.append(LineageEvent("born", tid, now))
        row = self.live.slot[tid]
        self.live.sums[row] += vec_sum
        self.live.weight[row] += float(fw.sum())
        self.live.refresh_rows(np.array([row]))
        self.table.size[tid] += len(group.ts)
        self.table.updated_at[tid] = max(self.table.updated_at[tid], float(group.ts.max()))
        earlier = np.flatnonzero(group.batch_pos < 0)  # this batch's docs are counted later
        self.keywords.add(
            np.full(len(earlier), tid),
            self.keyword_decay.weights(group.ts[earlier]),
            [group.terms[i] for i in earlier],
            False,
        )
        self.recent.add(group.emb, np.full(len(group.ts), tid), group.ts, group.doc_ids)
        sims = group.emb @ self.live.centroids[row]
        for i in np.argsort(-sims)[: self.config.n_examples].tolist():
            self.examples.offer(tid, float(sims[i]), group.texts[i])
        return tid, events

    def _centroid_stats(self, mat: TopicMatrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sample size behind each centroid and the squared norm of its mean post.

        The size is the topic's decayed weight at its *last post*: a centroid
        is as precise as the posts that built it, however long it was quiet.
        """
        w = mat.weight[rows]
        # The mean of unit vectors has norm <= 1; a topic emptied by a split
        # (weight ~0) has no mean post and counts as perfectly tight.
        ratio = np.ones(len(rows))
        np.divide(np.linalg.norm(mat.sums[rows], axis=1), w, out=ratio, where=w > 0)
        sq = np.minimum(ratio, 1.0) ** 2
        ids = mat.ids[rows]
        n = w * self.decay.factors_to(self.table.updated_at[ids])
        return n, sq

    def _best_same_topic(
        self,
        mat: TopicMatrix,
        rows: np.ndarray,
        centroid: np.ndarray,
        n: np.ndarray,
        sq: np.ndarray,
    ) -> int | None:
        """Row of the most similar topic among ``rows`` that passes the same-topic test."""
        if len(rows) == 0:
            return None
        sims = mat.centroids[rows] @ centroid
        n_r, sq_r = self._centroid_stats(mat, rows)
        c = self.config
        thr = same_topic_threshold(n_r, sq_r, n, sq, c.merge_slack, c.merge_floor)
        ok = sims >= np.minimum(thr, c.same_topic_cosine)
        if not ok.any():
            return None
        return int(rows[np.flatnonzero(ok)[np.argmax(sims[ok])]])

    def _merge_touched(self, touched: set[int], now: float) -> list[LineageEvent]:
        """Merge touched live topics into any live topic they converged onto.

        One vectorised same-topic test of every touched topic against the
        live set; only the (rare) passing pairs are visited in Python.
        """
        events: list[LineageEvent] = []
        cand = [t for t in touched if t in self.live]
        if len(self.live) < 2 or not cand:
            return events
        c = self.config
        live_rows = np.arange(len(self.live))
        rows = np.array([self.live.slot[t] for t in cand])
        # A topic that has not moved since its last test cannot have converged
        # onto another (one that moved onto it is tested itself).
        moved = np.einsum("ij,ij->i", self.live.centroids[rows], self.live.checked[rows])
        rows = rows[moved < 1.0 - MERGE_RECHECK_DISTANCE]
        if len(rows) == 0:
            return events
        cand = [int(t) for t in self.live.ids[rows]]
        self.live.checked[rows] = self.live.centroids[rows]
        sims = _few_rows_product(self.live.centroids[rows], self.live.live_centroids)
        sims[np.arange(len(rows)), rows] = -np.inf
        # No pair below both the floor and the fixed cosine can merge: test the rest only.
        ci, li = np.nonzero(sims >= min(c.merge_floor, c.same_topic_cosine))
        if len(ci) == 0:
            return events
        n_all, sq_all = self._centroid_stats(self.live, live_rows)
        thr = same_topic_threshold(
            n_all[rows[ci]], sq_all[rows[ci]], n_all[li], sq_all[li], c.merge_slack, c.merge_floor
        )
        passing = sims[ci, li] >= np.minimum(thr, c.same_topic_cosine)
        for i in np.unique(ci[passing]).tolist():
            a = cand[i]
            if a not in self.live:
                continue
            row_a = self.live.slot[a]
            others = np.flatnonzero(live_rows[: len(self.live)] != row_a)
            n_a, sq_a = self._centroid_stats(self.live, np.array([row_a]))
            j = self._best_same_topic(self.live, others, self.live.centroids[row_a], n_a, sq_a)
            if j is None:
                continue
            b = int(self.live.ids[j])
            # The heavier topic survives, so the id most users already know stays.
            keep, gone = (a, b) if self.live.weight[row_a] >= self.live.weight[j] else (b, a)
            self._merge(gone, keep)
            touched.add(keep)
            events.append(LineageEvent("merged", gone, now, other=keep))
        return events

    def _merge(self, gone: int, keep: int) -> None:
        self.keywords.freeze(gone, self.config.n_keywords)
        g_sum, g_w = self.live.remove(gone)
        row = self.live.slot[keep]
        self.live.sums[row] += g_sum
        self.live.weight[row] += g_w
        self.live.refresh_rows(np.array([row]))
        m = self.table
        m.size[keep] += m.size[gone]
        m.updated_at[keep] = max(m.updated_at[keep], m.updated_at[gone])
        m.born_at[keep] = min(m.born_at[keep], m.born_at[gone])
        m.status[gone] = MERGED
        m.merged_into[gone] = keep
        self.keywords.merge(gone, keep)
        self.examples.hand_over(gone, keep)
        self.recent.relabel(gone, keep)
        self.drift.reset(gone)
        self.drift.reset(keep)
        self.emerging.drop([gone])

    def _on_drift(self, topic_id: int, now: float, changed: set[int]) -> list[LineageEvent]:
        """Split a drifted topic in two, or refresh its centroid from its recent posts."""
        if topic_id not in self.live:
            return []
        # The newest posts are where a drift shows; older ones only blur the split.
        idx = self.recent.of_topic(topic_id)[-SPLIT_WINDOW:]
        if len(idx) < self.config.min_topic_size:
            return []
        emb = self.recent.emb[idx].astype(np.float32)
        ts = self.recent.ts[idx]
        fw = self.decay.weights(ts)
        row = self.live.slot[topic_id]
        c = self.config
        plan = plan_split(emb, ts, c.min_topic_size, c.split_threshold, c.same_topic_cosine)
        self.drift.reset(topic_id)
        changed.add(topic_id)
        if plan is None:
            # Refresh: keep the topic's mass, point it where its recent posts are.
            recent_sum = (emb.astype(np.float64) * fw[:, None]).sum(axis=0)
            scale = self.live.weight[row] / max(float(fw.sum()), 1e-300)
            self.live.sums[row] = recent_sum * scale
            self.live.refresh_rows(np.array([row]))
            return [LineageEvent("refreshed", topic_id, now)]
        return [self._split_off(topic_id, idx, plan.child_rows, now, changed)]

    def _split_off(
        self, topic_id: int, idx: np.ndarray, child_rows: np.ndarray, now: float, changed: set[int]
    ) -> LineageEvent:
        """Make the recent posts ``idx[child_rows]`` of a topic a new topic (``split_from``)."""
        emb = self.recent.emb[idx[child_rows]].astype(np.float64)
        ts = self.recent.ts[idx[child_rows]]
        child_fw = self.decay.weights(ts)
        child_sum = (emb * child_fw[:, None]).sum(axis=0)
        child_w = float(child_fw.sum())
        row = self.live.slot[topic_id]
        m = self.table
        child = m.new_id(float(ts.min()))
        m.split_from[child] = topic_id
        m.size[child] = len(child_rows)
        m.size[topic_id] -= len(child_rows)
        m.updated_at[child] = float(ts.max())
        self.live.sums[row] -= child_sum
        self.live.weight[row] = max(self.live.weight[row] - child_w, 0.0)
        self.live.refresh_rows(np.array([row]))
        self.live.add(child, child_sum, child_w)
        share = len(child_rows) / len(idx)
        self.keywords.move_share(topic_id, child, share)
        self.recent.topic[idx[child_rows]] = child
        changed.update((topic_id, child))
        return LineageEvent("split", child, now, other=topic_id)

    def _split_new_events(
        self,
        topic_ids: np.ndarray,
        terms: list[list[str]],
        doc_ids: list[str],
        now: float,
        changed: set[int],
    ) -> list[LineageEvent]:
        """Split off the posts of a new event a live topic absorbed (workers.emerging_terms).

        The posts carrying the term new to the topic become the child when
        their centroid is below ``split_threshold`` from the rest of the
        topic's recent posts: a word alone (a new hashtag or name of the same
        story) is not a new event unless the posts saying it also sit apart.
        """
        ids = topic_ids.tolist()
        hit = [i for i, t in enumerate(ids) if t != UNASSIGNED]
        found = self.emerging.observe(
            [ids[i] for i in hit], [terms[i] for i in hit], [doc_ids[i] for i in hit]
        )
        events = []
        for em in found:
            if em.topic_id not in self.live:
                continue
            idx = self.recent.of_topic(em.topic_id)[-SPLIT_WINDOW:]
            wanted = set(em.doc_ids)
            is_child = np.fromiter((d in wanted for d in self.recent.doc_ids[idx]), bool, len(idx))
            child_rows, rest = np.flatnonzero(is_child), np.flatnonzero(~is_child)
            if len(child_rows) < self.config.min_topic_size or len(rest) < len(child_rows):
                continue
            emb = self.recent.emb[idx].astype(np.float32)
            a, b = emb[child_rows].mean(axis=0), emb[rest].mean(axis=0)
            cos = float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))
            if cos >= self.config.split_threshold:
                continue
            event = self._split_off(em.topic_id, idx, child_rows, now, changed)
            self.emerging.moved(em.topic_id, wanted, event.topic_id)
            self.drift.reset(em.topic_id)
            events.append(event)
        return events

    def _retire(self, now: float) -> list[LineageEvent]:
        """Move faded topics (and the weakest beyond ``max_live``) to the dormant set."""
        if not len(self.live):
            return []
        w = self.live.weight[: self.live.n] * self.decay.factor_to(now)
        faded = set(self.live.ids[: self.live.n][w < self.config.dormant_weight].tolist())
        excess = self.live.n - len(faded) - self.config.max_live
        if excess > 0:
            order = np.argsort(w, kind="stable")
            for t in self.live.ids[order].tolist():
                if excess <= 0:
                    break
                if t not in faded:
                    faded.add(t)
                    excess -= 1
        events = []
        for t in sorted(faded):
            self.keywords.freeze(t, self.config.n_keywords)
            t_sum, t_w = self.live.remove(t)
            self.dormant.add(t, t_sum, t_w)
            self.table.status[t] = DORMANT
            self.drift.reset(t)
            self.emerging.drop([t])
            events.append(LineageEvent("dormant", t, now))
        while len(self.dormant) > self.config.max_dormant:
            rows = self.dormant.live_ids
            oldest = int(rows[np.argmin(self.table.updated_at[rows])])
            self.dormant.remove(oldest)
            self.table.status[oldest] = ARCHIVED
            events.append(LineageEvent("archived", oldest, now))
            # Only id, lineage and counters stay in memory; the topic's
            # published snapshots in ClickHouse keep its words and posts.
            self.keywords.drop(oldest)
            self.examples.drop(oldest)
        return events

    def _distribution(
        self,
        x: np.ndarray,
        ts: np.ndarray,
        topic_ids: np.ndarray,
        sims: np.ndarray,
        scores: np.ndarray | None = None,
        scored_ids: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k topic ids and probabilities for each document.

        ``scores`` against the live topics ``scored_ids`` (from the assignment
        step) are reused when the live set has not changed since.

        Probabilities are a softmax over cosines with one extra "no topic"
        option scored at the assignment threshold, so a document right at the
        threshold gets about even odds between its topic and none, and the
        listed probabilities sum to less than one by the outlier mass.
        """
        n, k = len(x), self.config.top_k
        ids = np.full((n, k), UNASSIGNED, dtype=np.int64)
        probs = np.zeros((n, k), dtype=np.float32)
        if not len(self.live) or n == 0:
            return ids, probs
        if scores is None or not np.array_equal(scored_ids, self.live.live_ids):
            scores = self._live_scores(x, ts)  # births, merges or dormancy changed the set
        kk = min(k, scores.shape[1])
        # Rank by score, but put the chosen topic first even when a birth or a
        # merge in this batch left another centroid nearer by now.
        chosen = self.live.live_ids[None, :] == topic_ids[:, None]
        key = np.where(chosen, np.inf, scores)
        # Top-k by k rounds of argmax: cheaper than sorting or partitioning
        # every live topic for the k of 3 that is asked for.
        order = np.empty((n, kk), dtype=np.int64)
        rows = np.arange(n)
        for j in range(kk):
            order[:, j] = np.argmax(key, axis=1)
            key[rows, order[:, j]] = -np.inf
        top_ids = self.live.live_ids[order]
        top_scores = np.take_along_axis(scores, order, axis=1)
        lead = chosen.any(axis=1)
        top_scores[lead, 0] = sims[lead]
        temp = self.config.temperature
        logits = np.concatenate(
            [top_scores, np.full((n, 1), self._assign_threshold(), dtype=np.float32)], axis=1
        )
        logits = (logits - logits.max(axis=1, keepdims=True)) / temp
        e = np.exp(logits)
        p = e / e.sum(axis=1, keepdims=True)
        ids[:, :kk] = top_ids
        probs[:, :kk] = p[:, :kk]
        return ids, probs

    # ------------------------------------------------------------- snapshot
    def _parts(self) -> dict[str, npz_blob.Part]:
        """The components that save their own state, by snapshot name."""
        return {
            "decay": self.decay,  # the keyword decay shares its landmark
            "topics": self.table,
            "live": self.live,
            "dormant": self.dormant,
            "buffer": self.buffer,
            "recent": self.recent,
            "keywords": self.keywords,
            "examples": self.examples,
            # river detectors hold their windows in Python objects: pickled.
            "drift": self.drift,
            "scale": self.scale,
            "emerging": self.emerging,
        }

    def snapshot(self) -> bytes:
        """Serialise the full state: each part's arrays in an ``.npz``, the rest as JSON."""
        meta = {
            "format": SNAPSHOT_FORMAT,
            "dim": self.dim,
            "config": self.config.to_dict(),
            "last_ts": self._last_ts if math.isfinite(self._last_ts) else None,
            "counters": [
                self.n_docs,
                self.n_unassigned_at_arrival,
                self.n_late_assigned,
                self.n_expired,
                self.n_reclaimed,
            ],
        }
        return npz_blob.pack_parts(meta, self._parts())

    @classmethod
    def restore(cls, blob: bytes) -> TopicTrackEngine:
        """Rebuild an engine from :meth:`snapshot` output (a trusted, own-made file)."""
        meta, arrays = npz_blob.unpack(
            blob, SNAPSHOT_FORMAT, SNAPSHOT_FORMAT_V2, SNAPSHOT_FORMAT_V1
        )
        if meta["format"] == SNAPSHOT_FORMAT_V1:
            meta, arrays = _upgrade_v1(meta, arrays)
        meta["parts"].setdefault("scale", {})  # formats 1-2: the scale is measured afresh
        meta["parts"].setdefault("emerging", {})  # ... and term histories start afresh
        eng = cls(meta["dim"], EngineConfig.from_dict(meta["config"]))
        eng._last_ts = meta["last_ts"] if meta["last_ts"] is not None else -math.inf
        counters = [*meta["counters"], 0][:5]  # older snapshots lack the reclaim count
        (
            eng.n_docs,
            eng.n_unassigned_at_arrival,
            eng.n_late_assigned,
            eng.n_expired,
            eng.n_reclaimed,
        ) = counters
        npz_blob.load_parts(meta, arrays, eng._parts())
        return eng


def _upgrade_v1(meta: dict[str, Any], z: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """A ``topictrack-engine/1`` snapshot's contents in the layout of format 2.

    Format 1 wrote the same state with the engine choosing every key; only
    the names differ (``meta_*`` arrays are the topic table's, ``kw_*`` the
    keywords'), and the parts' JSON sat at the top level.
    """
    renamed = {"meta_": "topics_", "kw_": "keywords_"}
    arrays: dict[str, np.ndarray] = {}
    for key in z:
        if key == "meta_json":
            continue
        new = key
        for old, prefix in renamed.items():
            if key.startswith(old):
                new = prefix + key[len(old) :]
        arrays[new] = z[key]
    parts = {
        "decay": {"landmark": meta["landmark"]},
        "topics": {"next_id": meta["next_id"]},
        "live": {},
        "dormant": {},
        "buffer": {k: meta[f"buffer_{k}"] for k in ("doc_ids", "texts", "terms")},
        "recent": {},
        "keywords": {"words": meta["words"], "frozen": meta["frozen_keywords"]},
        "examples": {"examples": meta["examples"]},
        "drift": {},
    }
    keep = ("dim", "config", "last_ts", "counters")
    return {"format": SNAPSHOT_FORMAT, **{k: meta[k] for k in keep}, "parts": parts}, arrays
