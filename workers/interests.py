"""Per-user topic interests: forward-decayed user x topic masses in event time.

Each assigned post of a user adds its top-k topic distribution, weighted by
forward decay (:mod:`workers.forward_decay`), to the user's row of topic
masses; the share ``p_u = u / sum(u)`` is the user's row of the user-topic
matrix R. Beside it: the decayed mean of the user's post embeddings (the
dense interest vector), decayed term counts (the user's keywords, scored as
topics' keywords are, :mod:`workers.keywords`), and the post count.

Rules (docs/interests.md gives the reasons):

- a post waiting in the engine's outlier buffer adds no topic mass until its
  late assignment adds it; a take-back moves the post's recorded mass to the
  new topic (both need the post's id: the engine reports them by id);
- a merge moves the gone topic's mass into the survivor in every profile;
- a split moves nothing: the engine moves specific posts to the child, not a
  share of every user's mass, and the users' next posts find the child;
- dormant topics decay like any other; archived topics (lineage ``archived``)
  are dropped;
- at most ``max_topics`` topics per user, cells under ``eps`` of the user's
  mass pruned; at most ``max_users`` users in memory, least recently seen
  evicted first (the store keeps every profile ever written).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from workers import npz_blob
from workers.forward_decay import ForwardDecay
from workers.sparse_rows import EMPTY, SparseRows
from workers.topic_types import UNASSIGNED, BatchResult

FORMAT = "topictrack-interests/1"
#: Vocabulary size that triggers a prune of terms no profile holds.
MAX_VOCAB = 200_000
#: Slots allocated at first; the table doubles up to ``max_users``.
INITIAL_SLOTS = 1024


@dataclass(frozen=True)
class InterestSettings:
    """Settings of :class:`UserInterests`.

    ``half_life_s``: event-time half-life of a post's weight. 7 days by
    measurement on 20 Newsgroups' real users (docs/interests.md: the best
    label-level recall@1 and MRR of the half-lives tried, and within 0.001
    of the best topic level; an hour forgets users between posts, months
    approach undecayed counts and lag behind a user who moves on).

    Examples
    --------
    >>> from workers import InterestSettings
    >>> InterestSettings().max_topics
    32
    >>> InterestSettings(half_life_s=0)
    Traceback (most recent call last):
    ...
    ValueError: half_life_s must be > 0
    """

    half_life_s: float = 7 * 86400.0
    #: Weight of the share against the dense vector's topic distribution when
    #: topics are ranked for a user (eval and /recommend): beta * p_u[k] +
    #: (1 - beta) * theta(v_u)[k]. By measurement (docs/interests.md).
    rank_beta: float = 0.25
    #: Topics kept per user (the row of R is sparse).
    max_topics: int = 32
    #: A topic under this share of a user's mass is pruned.
    eps: float = 0.01
    #: Terms kept per user for the keywords.
    max_terms: int = 48
    #: Users held in memory (least recently seen evicted).
    max_users: int = 100_000
    #: Assigned posts remembered by id, so a take-back can move their mass:
    #: the tracker's reclaimable window (streamer/pipeline/tracker.py).
    max_assigned_memo: int = 8192
    #: Buffered posts remembered by id until their late assignment.
    max_pending_memo: int = 100_000

    def __post_init__(self) -> None:
        if not self.half_life_s > 0:
            raise ValueError("half_life_s must be > 0")
        if self.max_topics < 1 or self.max_terms < 1 or self.max_users < 1:
            raise ValueError("max_topics, max_terms and max_users must be >= 1")
        if not 0 <= self.eps < 1:
            raise ValueError("eps must be in [0, 1)")
        if not 0 <= self.rank_beta <= 1:
            raise ValueError("rank_beta must be in [0, 1]")


@dataclass
class UserProfile:
    """One user's interests as of ``as_of`` (the stream's newest event time)."""

    user_id: str
    as_of: float
    version: int
    posts: int
    last_ts: float
    #: Decayed topic mass at ``as_of`` (sum of ``weights``).
    mass: float
    topic_ids: list[int]
    shares: list[float]
    weights: list[float]
    #: Event time of the user's last post in each topic.
    topic_last_ts: list[float]
    keywords: list[str]
    keyword_scores: list[float]
    #: Unit-length decayed mean of the user's post embeddings.
    vector: np.ndarray = field(repr=False)


class UserInterests:
    """Decayed topic interests of the users of one stream.

    Examples
    --------
    Two posts by ``ann`` about topic 1, one about topic 2 a day later:

    >>> import numpy as np
    >>> from workers import BatchResult, InterestSettings, UserInterests
    >>> prof = UserInterests(dim=4, settings=InterestSettings(half_life_s=86400.0))
    >>> def batch(topics):
    ...     ids = np.array([[t, -1] for t in topics])
    ...     probs = np.array([[0.8, 0.0] for _ in topics])
    ...     return BatchResult(np.array(topics), np.ones(len(topics)), ids, probs)
    >>> x = np.eye(4, dtype=np.float32)[:2]
    >>> prof.observe(["ann", "ann"], np.array([0.0, 0.0]), x, batch([1, 1]))
    >>> prof.observe(["ann"], np.array([86400.0]), x[1:], batch([2]))
    >>> p = prof.profile("ann")
    >>> p.topic_ids, [round(s, 3) for s in p.shares], p.posts
    ([1, 2], [0.5, 0.5], 3)
    >>> [round(w, 2) for w in p.weights]  # decayed to the newest event time
    [0.8, 0.8]
    >>> restored = UserInterests.restore(prof.snapshot())
    >>> restored.profile("ann").shares == p.shares
    True
    """

    def __init__(self, dim: int, settings: InterestSettings | None = None) -> None:
        self.dim = dim
        self.settings = settings or InterestSettings()
        s = self.settings
        self.decay = ForwardDecay(s.half_life_s)
        self.now = -np.inf
        self.version = 0
        cap = min(INITIAL_SLOTS, s.max_users)
        self.slots: dict[str, int] = {}
        self.slot_user: list[str] = [""] * cap
        self.used = np.zeros(cap, dtype=np.int64)  # LRU clock per slot
        self.in_use = np.zeros(cap, dtype=bool)
        self._tick = 0
        self.vec = np.zeros((cap, dim), dtype=np.float64)
        self.vmass = np.zeros(cap, dtype=np.float64)
        self.posts = np.zeros(cap, dtype=np.int64)
        self.last_ts = np.zeros(cap, dtype=np.float64)
        self.row_version = np.zeros(cap, dtype=np.int64)
        self.topics = SparseRows(cap, s.max_topics)
        self.terms = SparseRows(cap, s.max_terms)
        self.vocab: dict[str, int] = {}
        self.words: list[str] = []
        self.df = np.zeros(1024, dtype=np.float64)
        #: merged topic -> survivor (a take-back of a post recorded under it)
        self.alias: dict[int, int] = {}
        #: doc id -> (user, ts) of buffered posts awaiting a late assignment
        self.pending: OrderedDict[str, tuple[str, float]] = OrderedDict()
        #: doc id -> (user, ts, topic ids, probs) of recently assigned posts
        self.assigned: OrderedDict[str, tuple[str, float, tuple[int, ...], tuple[float, ...]]] = (
            OrderedDict()
        )
        #: users whose profile changed since :meth:`drain_changed`
        self.changed: set[str] = set()
        self.evictions = 0

    # -- slots -------------------------------------------------------------
    def _capacity(self) -> int:
        return len(self.slot_user)

    def _grow(self, need: int) -> None:
        cap = self._capacity()
        new = min(max(need, 2 * cap), self.settings.max_users)
        if new <= cap:
            return
        extra = new - cap
        self.slot_user += [""] * extra
        self.used = np.r_[self.used, np.zeros(extra, np.int64)]
        self.in_use = np.r_[self.in_use, np.zeros(extra, bool)]
        self.vec = np.vstack([self.vec, np.zeros((extra, self.dim))])
        self.vmass = np.r_[self.vmass, np.zeros(extra)]
        self.posts = np.r_[self.posts, np.zeros(extra, np.int64)]
        self.last_ts = np.r_[self.last_ts, np.zeros(extra)]
        self.row_version = np.r_[self.row_version, np.zeros(extra, np.int64)]
        self.topics.grow(new)
        self.terms.grow(new)

    def _slots_of(self, users: Sequence[str]) -> np.ndarray:
        """Slots of ``users``, allocating (and evicting the least recently seen) as needed."""
        uniq = list(dict.fromkeys(users))
        new = [u for u in uniq if u not in self.slots]
        if new:
            free = self._capacity() - len(self.slots)
            if free < len(new):
                self._grow(len(self.slots) + len(new))
                free = self._capacity() - len(self.slots)
            if free < len(new):
                keep = np.array([self.slots[u] for u in uniq if u in self.slots], np.int64)
                self._evict(len(new) - free, keep)
            open_slots = np.flatnonzero(~self.in_use)[: len(new)]
            if len(open_slots) < len(new):
                raise ValueError(
                    f"a batch with {len(uniq)} distinct users does not fit max_users "
                    f"{self.settings.max_users}"
                )
            self.in_use[open_slots] = True
            for u, slot in zip(new, open_slots.tolist(), strict=True):
                self.slots[u] = slot
                self.slot_user[slot] = u
        slots = np.fromiter((self.slots[u] for u in users), dtype=np.int64, count=len(users))
        self._tick += 1
        self.used[slots] = self._tick
        return slots

    def _evict(self, n: int, keep: np.ndarray) -> None:
        """Forget the ``n`` least recently seen users, except the slots in ``keep``."""
        mask = self.in_use.copy()
        mask[keep] = False
        occupied = np.flatnonzero(mask)
        n = min(n, len(occupied))
        if n == 0:
            return
        gone = occupied[np.argsort(self.used[occupied], kind="stable")[:n]]
        self.in_use[gone] = False
        for slot in gone.tolist():
            del self.slots[self.slot_user[slot]]
            self.changed.discard(self.slot_user[slot])
            self.slot_user[slot] = ""
        self.vec[gone] = 0.0
        self.vmass[gone] = 0.0
        self.posts[gone] = 0
        self.last_ts[gone] = 0.0
        self.row_version[gone] = 0
        self.topics.reset(gone)
        self.terms.reset(gone)
        self.evictions += n

    # -- learning ----------------------------------------------------------
    def _advance(self, now: float) -> None:
        factor = self.decay.advance(now)
        if factor != 1.0:
            self.vec *= factor
            self.vmass *= factor
            self.df *= factor
            self.topics.scale(factor)
            self.terms.scale(factor)

    def observe(
        self,
        users: Sequence[str],
        ts: np.ndarray,
        embeddings: np.ndarray,
        result: BatchResult,
        terms: Sequence[Sequence[str]] | None = None,
        doc_ids: Sequence[str] | None = None,
    ) -> None:
        """Fold one engine batch in: ``users[i]`` ("" = anonymous) wrote document ``i``.

        ``result`` is the engine's answer for the batch (its top-k, late
        assignments and lineage); ``terms`` the documents' keyword terms
        (None: no keywords); ``doc_ids`` the ids the engine knows them by
        (None: late assignments cannot be followed).
        """
        ts = np.asarray(ts, dtype=np.float64)
        if len(ts):
            self.now = max(self.now, float(ts.max()))
            self._advance(self.now)
        users_arr = np.asarray(users, dtype=str) if len(users) else np.zeros(0, str)
        has = np.flatnonzero(users_arr != "")
        touched: list[np.ndarray] = []
        if len(has):
            slots = self._slots_of(users_arr[has].tolist())
            touched.append(slots)
            w = self.decay.weights(ts[has])
            emb = np.asarray(embeddings, dtype=np.float64)[has]
            np.add.at(self.vec, slots, emb * w[:, None])
            np.add.at(self.vmass, slots, w)
            np.add.at(self.posts, slots, 1)
            np.maximum.at(self.last_ts, slots, ts[has])
            self._add_topics(has, slots, ts, w, result, users_arr, doc_ids)
            if terms is not None:
                self._add_terms(has, slots, w, terms)
        if terms is not None:
            self._count_df(ts, terms)
        touched.append(self._late(result))
        self._lineage(result)
        rows = np.unique(np.concatenate(touched)) if touched else np.zeros(0, np.int64)
        self.topics.prune(rows, self.settings.eps)
        if len(rows):
            self.version += 1
            self.row_version[rows] = self.version
            self.changed.update(self.slot_user[r] for r in rows.tolist())

    def _add_topics(
        self,
        has: np.ndarray,
        slots: np.ndarray,
        ts: np.ndarray,
        w: np.ndarray,
        result: BatchResult,
        users: np.ndarray,
        doc_ids: Sequence[str] | None,
    ) -> None:
        ids = np.asarray(result.topk_ids, dtype=np.int64)[has]
        probs = np.asarray(result.topk_probs, dtype=np.float64)[has]
        chosen = np.asarray(result.topic_ids, dtype=np.int64)[has]
        # A buffered post adds nothing until it is assigned (then by its late assignment).
        ids = np.where((chosen != UNASSIGNED)[:, None], ids, UNASSIGNED)
        cell = (ids != UNASSIGNED) & (probs > 0)
        rows, cols = np.nonzero(cell)
        self.topics.add(slots[rows], ids[rows, cols], probs[rows, cols] * w[rows], ts[has][rows])
        if doc_ids is None:
            return
        docs = [str(doc_ids[i]) for i in has.tolist()]
        who = users[has].tolist()
        when = ts[has].tolist()
        for j, doc in enumerate(docs):
            if chosen[j] == UNASSIGNED:
                self.pending[doc] = (who[j], when[j])
            else:
                keep = cell[j]
                self.assigned[doc] = (
                    who[j],
                    when[j],
                    tuple(ids[j][keep].tolist()),
                    tuple(probs[j][keep].tolist()),
                )
        s = self.settings
        while len(self.pending) > s.max_pending_memo:
            self.pending.popitem(last=False)
        while len(self.assigned) > s.max_assigned_memo:
            self.assigned.popitem(last=False)

    def _resolve(self, topic: int) -> int:
        while topic in self.alias:
            topic = self.alias[topic]
        return topic

    def _late(self, result: BatchResult) -> np.ndarray:
        """Move the mass of posts a birth assigned late (or took back); their slots."""
        rows: list[int] = []
        ids: list[int] = []
        mass: list[float] = []
        when: list[float] = []
        for late in result.late:
            topic = int(late.topic_id)
            for doc in late.doc_ids:
                doc = str(doc)
                if doc in self.pending:
                    user, t = self.pending.pop(doc)
                    old: tuple[tuple[int, ...], tuple[float, ...]] = ((), ())
                elif doc in self.assigned:
                    user, t, *rest = self.assigned.pop(doc)
                    old = (rest[0], rest[1])
                else:
                    continue
                slot = self.slots.get(user)
                if slot is None:  # evicted meanwhile
                    continue
                wt = float(self.decay.weights(np.array([t]))[0])
                for tid, p in zip(*old, strict=True):
                    rows.append(slot)
                    ids.append(self._resolve(tid))
                    mass.append(-p * wt)
                    when.append(t)
                # The late row names one topic with probability 1 (as the events row does).
                rows.append(slot)
                ids.append(topic)
                mass.append(wt)
                when.append(t)
                self.assigned[doc] = (user, t, (topic,), (1.0,))
        if not rows:
            return np.zeros(0, np.int64)
        r = np.asarray(rows, np.int64)
        self.topics.add(r, np.asarray(ids), np.asarray(mass), np.asarray(when))
        return r

    def _lineage(self, result: BatchResult) -> None:
        archived = []
        for event in result.lineage:
            if event.kind == "merged" and event.other is not None:
                self.topics.rename(int(event.topic_id), int(event.other))
                self.alias[int(event.topic_id)] = int(event.other)
            elif event.kind == "archived":
                archived.append(int(event.topic_id))
        if archived:
            self.drop_topics(archived)

    def drop_topics(self, topic_ids: Sequence[int]) -> None:
        """Forget topics in every profile (archived: they will never come back)."""
        self.topics.drop_ids(np.asarray(topic_ids, dtype=np.int64))

    def _term_ids(self, terms: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """Vocabulary ids of each document's distinct terms, and the document of each."""
        docs = [list(dict.fromkeys(t)) for t in terms]
        flat = [w for d in docs for w in d]
        for w in flat:
            if w not in self.vocab:
                self.vocab[w] = len(self.words)
                self.words.append(w)
        if len(self.words) > len(self.df):
            grown = np.zeros(max(len(self.words), 2 * len(self.df)))
            grown[: len(self.df)] = self.df
            self.df = grown
        ids = np.fromiter(map(self.vocab.__getitem__, flat), dtype=np.int64, count=len(flat))
        doc = np.repeat(np.arange(len(docs)), [len(d) for d in docs])
        return ids, doc

    def _count_df(self, ts: np.ndarray, terms: Sequence[Sequence[str]]) -> None:
        ids, doc = self._term_ids(terms)
        if len(ids):
            np.add.at(self.df, ids, self.decay.weights(ts)[doc])
        if len(self.words) > MAX_VOCAB:
            self._prune_vocab()

    def _add_terms(
        self, has: np.ndarray, slots: np.ndarray, w: np.ndarray, terms: Sequence[Sequence[str]]
    ) -> None:
        ids, doc = self._term_ids([terms[i] for i in has.tolist()])
        self.terms.add(slots[doc], ids, w[doc], np.zeros(len(ids)))

    def _prune_vocab(self) -> None:
        """Keep the terms profiles hold and the most frequent others; renumber."""
        n = len(self.words)
        keep = np.zeros(n, dtype=bool)
        held = self.terms.ids[self.terms.ids != EMPTY]
        keep[held] = True
        keep[np.argsort(-self.df[:n])[: MAX_VOCAB // 2]] = True
        new_id = np.cumsum(keep) - 1
        self.words = [w for w, k in zip(self.words, keep.tolist(), strict=True) if k]
        self.vocab = {w: i for i, w in enumerate(self.words)}
        self.df = np.r_[self.df[:n][keep], np.zeros(len(self.words))]
        cells = self.terms.ids != EMPTY
        self.terms.ids[cells] = new_id[self.terms.ids[cells]]

    # -- reading -----------------------------------------------------------
    def __contains__(self, user: str) -> bool:
        return user in self.slots

    def __len__(self) -> int:
        return len(self.slots)

    def rank(self, users: Sequence[str], k: int = 5) -> np.ndarray:
        """``(n, k)`` topic ids each user is most into, padded with ``UNASSIGNED``."""
        out = np.full((len(users), k), UNASSIGNED, dtype=np.int64)
        known = [i for i, u in enumerate(users) if u in self.slots]
        if not known:
            return out
        slots = np.array([self.slots[users[i]] for i in known], dtype=np.int64)
        mass = self.topics.mass[slots]
        order = np.argsort(-mass, axis=1, kind="stable")[:, :k]
        ids = np.take_along_axis(self.topics.ids[slots], order, axis=1)
        width = ids.shape[1]
        out[known, :width] = ids
        return out

    def vectors(self, users: Sequence[str]) -> np.ndarray:
        """``(n, dim)`` unit interest vectors (zeros for users not held)."""
        out = np.zeros((len(users), self.dim), dtype=np.float32)
        known = [i for i, u in enumerate(users) if u in self.slots]
        if known:
            v = self.vec[[self.slots[users[i]] for i in known]]
            norm = np.linalg.norm(v, axis=1, keepdims=True)
            out[known] = v / np.where(norm > 0, norm, 1.0)
        return out

    def profile(self, user: str, k_keywords: int = 10) -> UserProfile | None:
        """The user's profile as of the newest event time (None: not held in memory)."""
        slot = self.slots.get(user)
        if slot is None:
            return None
        now = self.now if np.isfinite(self.now) else 0.0
        factor = self.decay.factor_to(now)
        ids, mass = self.topics.row(slot)
        total = sum(mass)
        last = dict(
            zip(self.topics.ids[slot].tolist(), self.topics.last[slot].tolist(), strict=True)
        )
        v = self.vec[slot]
        norm = float(np.linalg.norm(v))
        words, scores = self._keywords(slot, k_keywords)
        return UserProfile(
            user_id=user,
            as_of=now,
            version=int(self.row_version[slot]),
            posts=int(self.posts[slot]),
            last_ts=float(self.last_ts[slot]),
            mass=total * factor,
            topic_ids=ids,
            shares=[m / total for m in mass] if total > 0 else [],
            weights=[m * factor for m in mass],
            topic_last_ts=[last[i] for i in ids],
            keywords=words,
            keyword_scores=scores,
            vector=(v / norm if norm > 0 else v).astype(np.float32),
        )

    def _keywords(self, slot: int, k: int) -> tuple[list[str], list[float]]:
        """c-TF-IDF of the user's decayed term counts against the stream's (workers/keywords.py)."""
        cells = self.terms.ids[slot] != EMPTY
        if not cells.any() or self.vmass[slot] <= 0:
            return [], []
        ids = self.terms.ids[slot][cells]
        tf = self.terms.mass[slot][cells]
        mass = float(self.vmass[slot])
        overall = np.maximum(self.df[ids], tf)
        score = (tf / mass) * np.log1p(mass / overall)
        top = np.argsort(-score, kind="stable")[:k]
        return [self.words[int(ids[i])] for i in top], [float(score[i]) for i in top]

    def drain_changed(self) -> list[UserProfile]:
        """Profiles changed since the last call (to write to the store)."""
        users, self.changed = sorted(self.changed), set()
        return [p for u in users if (p := self.profile(u)) is not None]

    # -- checkpoints ---------------------------------------------------------
    def snapshot(self) -> bytes:
        """Every profile, the memos and the vocabulary as bytes (no pickle)."""
        pend = list(self.pending.items())
        done = list(self.assigned.items())
        width = max([len(v[2]) for _, v in done] or [1])
        ids = np.full((len(done), width), UNASSIGNED, dtype=np.int64)
        probs = np.zeros((len(done), width))
        for i, (_, v) in enumerate(done):
            ids[i, : len(v[2])] = v[2]
            probs[i, : len(v[3])] = v[3]
        arrays = {
            "slot_user": np.array(self.slot_user, dtype=str),
            "used": self.used,
            "vec": self.vec,
            "vmass": self.vmass,
            "posts": self.posts,
            "last_ts": self.last_ts,
            "row_version": self.row_version,
            "df": self.df[: len(self.words)],
            "words": np.array(self.words, dtype=str),
            "alias": np.array(sorted(self.alias.items()), dtype=np.int64).reshape(-1, 2),
            "pending_doc": np.array([d for d, _ in pend], dtype=str),
            "pending_user": np.array([v[0] for _, v in pend], dtype=str),
            "pending_ts": np.array([v[1] for _, v in pend], dtype=np.float64),
            "assigned_doc": np.array([d for d, _ in done], dtype=str),
            "assigned_user": np.array([v[0] for _, v in done], dtype=str),
            "assigned_ts": np.array([v[1] for _, v in done], dtype=np.float64),
            "assigned_ids": ids,
            "assigned_probs": probs,
        }
        for name, part in (("topics", self.topics), ("terms", self.terms)):
            part_arrays, _ = part.state()
            arrays.update({f"{name}_{k}": v for k, v in part_arrays.items()})
        meta = {
            "format": FORMAT,
            "dim": self.dim,
            "settings": asdict(self.settings),
            "now": self.now if np.isfinite(self.now) else None,
            "version": self.version,
            "tick": self._tick,
            "evictions": self.evictions,
            "landmark": self.decay.landmark,
            "changed": sorted(self.changed),
        }
        return npz_blob.pack(meta, arrays)

    @classmethod
    def restore(cls, blob: bytes, settings: InterestSettings | None = None) -> UserInterests:
        """A :class:`UserInterests` from :meth:`snapshot` bytes (``settings``: override)."""
        meta, a = npz_blob.unpack(blob, FORMAT)
        saved = InterestSettings(**meta["settings"])
        self = cls(int(meta["dim"]), settings or saved)
        self.now = -np.inf if meta["now"] is None else float(meta["now"])
        self.version = int(meta["version"])
        self._tick = int(meta["tick"])
        self.evictions = int(meta["evictions"])
        self.decay.landmark = meta["landmark"]
        self.changed = set(meta["changed"])
        self.slot_user = [str(u) for u in a["slot_user"].tolist()]
        self.slots = {u: i for i, u in enumerate(self.slot_user) if u}
        self.in_use = np.array([bool(u) for u in self.slot_user], dtype=bool)
        self.used = np.array(a["used"], np.int64)
        self.vec = np.array(a["vec"], np.float64)
        self.vmass = np.array(a["vmass"], np.float64)
        self.posts = np.array(a["posts"], np.int64)
        self.last_ts = np.array(a["last_ts"], np.float64)
        self.row_version = np.array(a["row_version"], np.int64)
        self.words = [str(w) for w in a["words"].tolist()]
        self.vocab = {w: i for i, w in enumerate(self.words)}
        self.df = np.r_[np.array(a["df"], np.float64), np.zeros(1024)]
        self.alias = {int(k): int(v) for k, v in a["alias"].tolist()}
        for name, part in (("topics", self.topics), ("terms", self.terms)):
            own = {k: a[f"{name}_{k}"] for k in ("ids", "mass", "last")}
            part.load(own, {"width": own["ids"].shape[1]})
        self.pending = OrderedDict(
            (str(d), (str(u), float(t)))
            for d, u, t in zip(
                a["pending_doc"].tolist(),
                a["pending_user"].tolist(),
                a["pending_ts"].tolist(),
                strict=True,
            )
        )
        self.assigned = OrderedDict()
        for d, u, t, ids, probs in zip(
            a["assigned_doc"].tolist(),
            a["assigned_user"].tolist(),
            a["assigned_ts"].tolist(),
            a["assigned_ids"].tolist(),
            a["assigned_probs"].tolist(),
            strict=True,
        ):
            keep = [i for i, tid in enumerate(ids) if tid != UNASSIGNED]
            self.assigned[str(d)] = (
                str(u),
                float(t),
                tuple(int(ids[i]) for i in keep),
                tuple(float(probs[i]) for i in keep),
            )
        return self
