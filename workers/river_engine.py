"""River's STREAMKMeans behind the :class:`~workers.topic_types.TopicEngine` interface.

Selectable with ``--engine river-streamkmeans`` for users who want River's
algorithm, and the baseline our engine is measured against. River clusterers
take one dict of features per document, so this backend runs a Python loop
per document over 384 dict entries: hundreds of documents per second, not
tens of thousands (``bench/README.md`` has the measurements). It has a fixed
number of clusters, no outlier buffer, no merges, splits or dormancy;
keywords and examples are kept the same way as in our engine so topic views
compare.
"""

from __future__ import annotations

import io
import json
import math
import pickle

import numpy as np
from river import cluster

from workers.keywords import KeywordModel
from workers.tokenize import tokenize_many
from workers.topic_types import UNASSIGNED, BatchResult, TopicView

SNAPSHOT_FORMAT = "topictrack-river-streamkmeans/1"
#: Example posts kept per cluster (the first ones it received).
N_EXAMPLES = 5


class RiverStreamKMeansEngine:
    """River ``STREAMKMeans`` (k fixed) wrapped as a topic engine.

    Parameters
    ----------
    dim:
        Embedding dimension.
    n_clusters:
        River's ``n_clusters`` (topics are ids ``1..n_clusters``).
    chunk_size, halflife, seed:
        Passed to ``river.cluster.STREAMKMeans``.
    top_k, temperature, n_keywords:
        Same meaning as in :class:`workers.engine_config.EngineConfig`.

    Examples
    --------
    Every post goes to one of the ``n_clusters`` clusters (ids ``1..n_clusters``)
    at once; there is no outlier buffer:

    >>> import numpy as np
    >>> from workers import RiverStreamKMeansEngine
    >>> rng = np.random.default_rng(4)
    >>> x = np.eye(8)[rng.integers(0, 2, 20)] + 0.05 * rng.standard_normal((20, 8))
    >>> x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    >>> engine = RiverStreamKMeansEngine(dim=8, n_clusters=2, seed=1)
    >>> result = engine.learn_many(x, np.arange(20.0), ["flood"] * 20)
    >>> set(result.topic_ids.tolist()) <= {1, 2}, result.topk_ids.shape
    (True, (20, 2))
    >>> bool(np.allclose(result.topk_probs.sum(axis=1), 1.0))
    True
    >>> twin = RiverStreamKMeansEngine.restore(engine.snapshot())
    >>> a = engine.learn_many(x[:5], np.full(5, 30.0), ["flood"] * 5)
    >>> b = twin.learn_many(x[:5], np.full(5, 30.0), ["flood"] * 5)
    >>> a.topic_ids.tolist() == b.topic_ids.tolist()
    True
    """

    name = "river-streamkmeans"

    def __init__(
        self,
        dim: int = 384,
        n_clusters: int = 20,
        chunk_size: int = 10,
        halflife: float = 0.5,
        seed: int = 42,
        top_k: int = 3,
        temperature: float = 0.05,
        n_keywords: int = 10,
    ) -> None:
        if n_clusters < 1 or chunk_size < 1:
            raise ValueError("n_clusters and chunk_size must be >= 1")
        self.dim = dim
        self.params = {
            "n_clusters": n_clusters,
            "chunk_size": chunk_size,
            "halflife": halflife,
            "seed": seed,
            "top_k": top_k,
            "temperature": temperature,
            "n_keywords": n_keywords,
        }
        self.model = cluster.STREAMKMeans(
            chunk_size=chunk_size, n_clusters=n_clusters, halflife=halflife, seed=seed
        )
        self.keywords = KeywordModel()
        self.sizes = np.zeros(n_clusters + 1, dtype=np.int64)
        self.born_at = np.full(n_clusters + 1, math.nan)
        self.updated_at = np.full(n_clusters + 1, math.nan)
        self.versions = np.zeros(n_clusters + 1, dtype=np.int64)
        self.examples: dict[int, list[str]] = {}
        self.n_docs = 0
        self._last_ts = -math.inf

    @property
    def last_ts(self) -> float:
        return self._last_ts

    def _centers(self) -> np.ndarray:
        k = self.params["n_clusters"]
        out = np.zeros((k, self.dim), dtype=np.float32)
        for c, center in self.model.centers.items():
            out[c] = [center.get(i, 0.0) for i in range(self.dim)]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def learn_many(
        self,
        embeddings: np.ndarray,
        ts: np.ndarray,
        texts: list[str],
        doc_ids: list[str] | None = None,
        terms: list[list[str]] | None = None,
    ) -> BatchResult:
        """Learn then predict each document in turn (River's one-at-a-time API)."""
        x = np.asarray(embeddings, dtype=np.float64)
        ts = np.asarray(ts, dtype=np.float64)
        n = len(x)
        topic_ids = np.full(n, UNASSIGNED, dtype=np.int64)
        for i in range(n):
            features = dict(enumerate(x[i].tolist()))
            self.model.learn_one(features)
            topic_ids[i] = self.model.predict_one(features) + 1
        if terms is None:
            terms = tokenize_many(texts)
        self.keywords.add(topic_ids, np.ones(n), terms)
        np.add.at(self.sizes, topic_ids, 1)
        for t in np.unique(topic_ids).tolist():
            mask = topic_ids == t
            first, last = float(ts[mask].min()), float(ts[mask].max())
            if math.isnan(self.born_at[t]):
                self.born_at[t] = first
            self.updated_at[t] = max(last, np.nan_to_num(self.updated_at[t], nan=-math.inf))
            self.versions[t] += 1
            kept = self.examples.setdefault(t, [])
            for j in np.flatnonzero(mask)[: max(0, N_EXAMPLES - len(kept))]:
                kept.append(texts[j])
        self.n_docs += n
        if n:
            self._last_ts = max(self._last_ts, float(ts.max()))
        result = self._distribution(x.astype(np.float32), topic_ids)
        result.changed = sorted(np.unique(topic_ids).tolist())
        return result

    def predict_many(self, embeddings: np.ndarray) -> BatchResult:
        x = np.asarray(embeddings, dtype=np.float32)
        if not self.model.centers:
            k = self.params["top_k"]
            n = len(x)
            return BatchResult(
                np.full(n, UNASSIGNED, dtype=np.int64),
                np.zeros(n, dtype=np.float32),
                np.full((n, k), UNASSIGNED, dtype=np.int64),
                np.zeros((n, k), dtype=np.float32),
            )
        ids = np.array([self.model.predict_one(dict(enumerate(r.tolist()))) + 1 for r in x])
        return self._distribution(x, ids)

    def _distribution(self, x: np.ndarray, topic_ids: np.ndarray) -> BatchResult:
        k = min(self.params["top_k"], self.params["n_clusters"])
        cents = self._centers()
        scores = x @ cents.T
        order = np.argsort(-scores, axis=1)[:, :k]
        top = np.take_along_axis(scores, order, axis=1)
        e = np.exp((top - top.max(axis=1, keepdims=True)) / self.params["temperature"])
        probs = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
        sims = scores[np.arange(len(x)), np.maximum(topic_ids - 1, 0)].astype(np.float32)
        return BatchResult(topic_ids, sims, (order + 1).astype(np.int64), probs)

    def topic(self, topic_id: int) -> TopicView:
        k = self.params["n_clusters"]
        if not 1 <= topic_id <= k:
            raise KeyError(f"no topic {topic_id}")
        kw = self.keywords.keywords(topic_id, self.params["n_keywords"])
        words = [w for w, _ in kw]
        return TopicView(
            topic_id=topic_id,
            version=int(self.versions[topic_id]),
            born_at=float(np.nan_to_num(self.born_at[topic_id])),
            updated_at=float(np.nan_to_num(self.updated_at[topic_id])),
            size=int(self.sizes[topic_id]),
            weight=float(self.sizes[topic_id]),
            centroid=self._centers()[topic_id - 1],
            keywords=words,
            keyword_scores=[s for _, s in kw],
            label=" · ".join(words[:3]) if words else f"topic {topic_id}",
            status="active",
            examples=list(self.examples.get(topic_id, [])),
        )

    def topics(self, include_inactive: bool = False) -> list[TopicView]:
        ids = [t for t in range(1, self.params["n_clusters"] + 1) if self.sizes[t] > 0]
        return sorted((self.topic(t) for t in ids), key=lambda v: (-v.size, v.topic_id))

    def stats(self) -> dict[str, float]:
        return {
            "docs": self.n_docs,
            "live_topics": int((self.sizes[1:] > 0).sum()),
            "dormant_topics": 0,
            "topics_ever": int((self.sizes[1:] > 0).sum()),
            "buffered": 0,
            "unassigned_share_at_arrival": 0.0,
            "unassigned_share": 0.0,
        }

    def snapshot(self) -> bytes:
        """River models are Python objects: the snapshot pickles them (trusted files only)."""
        meta = {"format": SNAPSHOT_FORMAT, "dim": self.dim, "params": self.params}
        payload = {k: v for k, v in self.__dict__.items() if k not in ("params", "dim")}
        buf = io.BytesIO()
        buf.write(json.dumps(meta).encode() + b"\n")
        buf.write(pickle.dumps(payload))
        return buf.getvalue()

    @classmethod
    def restore(cls, blob: bytes) -> RiverStreamKMeansEngine:
        head, _, body = blob.partition(b"\n")
        meta = json.loads(head)
        if meta.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"not a {SNAPSHOT_FORMAT} snapshot: {meta.get('format')!r}")
        eng = cls(meta["dim"], **meta["params"])
        eng.__dict__.update(pickle.loads(body))
        return eng
