"""Side-by-side: our topic engine against the online clusterers a user could pick instead.

Every method sees the same labeled stream in event-time order, the same cached
sentence embeddings and the same yardsticks (``docs/evaluation.md``),
computed on the topic each document got *when it was processed*:

- ``topictrack``: our engine, default settings, replayed in micro-batches of
  :data:`workers.evaluation.DEFAULT_BATCH` exactly as ``topictrack eval`` does;
- ``leader-follower``: a plain cosine leader-follower at 0.4, one document at
  a time (issue #3's reference point);
- ``bertopic-online``: BERTopic's documented online pipeline (IncrementalPCA,
  MiniBatchKMeans with K = number of labels, OnlineCountVectorizer), one
  ``partial_fit`` per micro-batch;
- ``river-streamkmeans``: our River STREAMKMeans backend, K = number of labels;
- ``river-dbstream``: River DBSTREAM on dict features, its macro-cluster
  prediction and, separately, the micro-cluster nearest each document.

River's clusterers run one Python dict per document (hundreds of documents per
second), so they run on a prefix (``--river-limit``, default 20,000) within a
CPU budget; our engine and the leader-follower are also scored on every prefix
a peer used, so each peer has a comparable row.

Run ``python bench/peers.py --help``. Needs the ``bench`` extra.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
#: Labeled streams live beside the repository, never inside it.
DATA_ROOT = REPO.parent / "shared" / "data"
RESULTS = REPO / "bench" / "results"
#: Cosine of the leader-follower reference point (issue #3).
LEADER_FOLLOWER_THRESHOLD = 0.4
#: Documents River peers see by default: issue #3's reference figures were
#: measured on this prefix, and at River's speed it fits the time budget.
RIVER_LIMIT = 20_000
#: CPU seconds one peer may spend before it stops at the end of its batch.
BUDGET_S = 600.0
#: Keywords per topic, and the smallest topic whose keywords are scored (as
#: :func:`workers.evaluation.topic_word_lists`).
TOP_WORDS = 10
MIN_TOPIC_SIZE = 5


# ---------------------------------------------------------------- data
def resolve_data(name: str) -> Path:
    """``../shared/data/<name>/stream.jsonl`` for a data-set name, or the path given."""
    path = Path(name)
    if path.suffix == ".jsonl":
        return path
    return DATA_ROOT / name / "stream.jsonl"


def data_name(path: Path) -> str:
    """``crisislext26`` for ``.../crisislext26/stream.jsonl``, else the file's stem."""
    return path.parent.name if path.stem == "stream" else path.stem


def load_stream_and_embeddings(path: Path, limit: int | None, quiet: bool = False) -> tuple:
    """The stream in event-time order and its embeddings in the same order.

    Embeddings come from the on-disk cache ``topictrack eval`` fills (file
    order, keyed by model and file content); whatever is missing is embedded
    with the packaged model first (minutes on CPU).
    """
    from workers.embedding import DEFAULT_MAX_TOKENS, default_model_path
    from workers.embedding_cache import cache_key, cached_embeddings, file_digest
    from workers.evaluation import load_labeled_stream

    stream = load_labeled_stream(path, limit)
    key = cache_key(default_model_path(), DEFAULT_MAX_TOKENS, file_digest(path))
    embedder: list[Any] = []

    def encode(texts: list[str]) -> np.ndarray:
        if not embedder:
            from workers.embedding import Embedder, resolve_device

            print("embeddings not cached: embedding with the packaged model", file=sys.stderr)
            device = resolve_device("auto")
            # torch: the cache key above is torch's (no runtime in it).
            embedder.append(Embedder(None, device=device, runtime="torch"))
        return embedder[0].encode(texts)

    cached = cached_embeddings(stream.texts_in_file_order(), encode, key, progress=not quiet)
    return stream, np.ascontiguousarray(cached[stream.file_order], dtype=np.float32)


def prefix(stream: Any, n: int) -> Any:
    """The first ``n`` documents (in event time) of a :class:`LabeledStream`."""
    from workers.evaluation import LabeledStream

    return LabeledStream(
        ids=stream.ids[:n],
        ts=stream.ts[:n],
        texts=stream.texts[:n],
        labels=stream.labels[:n],
        file_order=stream.file_order[:n],
    )


def batches(n: int, size: int, min_last: int = 1) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` micro-batches; a last batch under ``min_last`` joins the one before."""
    starts = list(range(0, n, size))
    if len(starts) > 1 and n - starts[-1] < min_last:
        starts.pop()
    for i, start in enumerate(starts):
        yield start, starts[i + 1] if i + 1 < len(starts) else n


class Progress:
    """One self-overwriting progress line on stderr per method."""

    def __init__(self, name: str, total: int, quiet: bool) -> None:
        self.name, self.total, self.quiet = name, total, quiet
        self.started = time.perf_counter()
        self.last = 0.0

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if self.quiet or (now - self.last < 1.0 and done < self.total):
            return
        self.last = now
        rate = done / max(now - self.started, 1e-9)
        eta = (self.total - done) / rate if rate > 0 else float("inf")
        sys.stderr.write(
            f"\r{self.name}: {done:,}/{self.total:,} docs  {rate:,.0f} docs/s  eta {eta:,.0f}s   "
        )
        sys.stderr.flush()

    def done(self) -> None:
        if not self.quiet:
            sys.stderr.write("\n")


# ------------------------------------------------------------- methods
@dataclass
class Run:
    """What one method produced on one prefix."""

    method: str
    pred: np.ndarray  # topic per document at processing time (-1: unassigned)
    cpu_s: float  # process CPU time of the clusterer alone
    wall_s: float
    words: list[list[str]]  # top keywords of topics with >= MIN_TOPIC_SIZE documents
    notes: dict[str, Any] = field(default_factory=dict)


def words_from_assignments(pred: np.ndarray, terms: list[list[str]]) -> list[list[str]]:
    """Top keywords per topic with our c-TF-IDF model, for peers that keep none.

    Fed with the processing-time assignments, undecayed, outside the timing:
    NPMI and diversity then compare the partitions, not keyword code.
    """
    from workers.keywords import KeywordModel

    model = KeywordModel()
    model.add(pred, np.ones(len(pred)), terms)
    ids, counts = np.unique(pred[pred >= 0], return_counts=True)
    out = []
    for t in ids[counts >= MIN_TOPIC_SIZE].tolist():
        words = [w for w, _ in model.keywords(int(t), TOP_WORDS)]
        if words:
            out.append(words)
    return out


def run_topictrack(stream: Any, emb: np.ndarray, terms: list[list[str]], opts: Any) -> Run:
    """Our engine, default settings, replayed as ``topictrack eval`` does."""
    from workers.engines import make_engine
    from workers.evaluation import replay, topic_word_lists

    engine = make_engine("topictrack", emb.shape[1])
    t0 = time.perf_counter()
    if not opts.quiet:
        sys.stderr.write(f"topictrack ({len(stream):,} docs)\n")
    res = replay(engine, emb, stream, terms, opts.batch_size, progress=not opts.quiet)
    wall = time.perf_counter() - t0
    stats = engine.stats()
    return Run(
        "topictrack",
        res.pred,
        res.engine_seconds,
        wall,
        topic_word_lists(engine, MIN_TOPIC_SIZE, TOP_WORDS),
        {"topics_ever": int(stats["topics_ever"]), "live_topics": int(stats["live_topics"])},
    )


class LeaderFollower:
    """Cosine leader-follower over unit vectors, exact one-document-at-a-time semantics.

    A document joins the cluster whose mean direction is nearest if the cosine
    reaches ``threshold`` (the cluster's mean then moves to include it);
    otherwise it leads a new cluster. The comparison with every centroid is
    one matrix-vector product per document; the loop over documents stays,
    because each one may move a centroid the next one is compared with.
    Freezing centroids for a whole 256-document batch (one matrix product)
    was measured on CrisisLexT26's first 20k documents to cost 0.10 B3-F1 and
    0.09 AMI, so the bench keeps the reference algorithm exact.
    """

    def __init__(self, dim: int, threshold: float = LEADER_FOLLOWER_THRESHOLD) -> None:
        self.threshold = threshold
        self.sums = np.zeros((1024, dim), dtype=np.float32)
        self.centroids = np.zeros((1024, dim), dtype=np.float32)
        self.n = 0

    def _lead(self, x: np.ndarray) -> int:
        if self.n == len(self.sums):
            self.sums = np.concatenate([self.sums, np.zeros_like(self.sums)])
            self.centroids = np.concatenate([self.centroids, np.zeros_like(self.centroids)])
        self.sums[self.n] = x
        self.centroids[self.n] = x
        self.n += 1
        return self.n - 1

    def learn_many(self, x: np.ndarray) -> np.ndarray:
        """Cluster ids (0, 1, ...) for L2-normalised rows, taken in order."""
        ids = np.empty(len(x), dtype=np.int64)
        thr = self.threshold
        for i, row in enumerate(x):
            if self.n:
                scores = self.centroids[: self.n] @ row
                j = int(scores.argmax())
                if scores[j] >= thr:
                    ids[i] = j
                    c = self.sums[j]
                    c += row
                    self.centroids[j] = c / np.sqrt(c @ c)
                    continue
            ids[i] = self._lead(row)
        return ids


def run_leader_follower(stream: Any, emb: np.ndarray, terms: list[list[str]], opts: Any) -> Run:
    """The cosine leader-follower at 0.4 (one BLAS thread, as our engine)."""
    from workers.blas import single_threaded_blas

    n = len(stream)
    lf = LeaderFollower(emb.shape[1])
    pred = np.full(n, -1, dtype=np.int64)
    prog = Progress(f"leader-follower ({n:,} docs)", n, opts.quiet)
    cpu, t0 = 0.0, time.perf_counter()
    for start, stop in batches(n, opts.batch_size):
        c0 = time.process_time()
        with single_threaded_blas():
            pred[start:stop] = lf.learn_many(emb[start:stop])
        cpu += time.process_time() - c0
        prog.update(stop)
    prog.done()
    wall = time.perf_counter() - t0
    return Run("leader-follower", pred, cpu, wall, words_from_assignments(pred, terms))


def budgeted_replay(
    name: str, n: int, bounds: Any, step: Any, opts: Any
) -> tuple[np.ndarray, float, float, int]:
    """Run ``step(start, stop) -> topic ids`` over ``bounds`` until the CPU budget is spent.

    Returns (predictions, CPU seconds inside ``step``, wall seconds, documents covered).
    """
    pred = np.full(n, -1, dtype=np.int64)
    prog = Progress(f"{name} ({n:,} docs)", n, opts.quiet)
    cpu, t0, covered = 0.0, time.perf_counter(), n
    for start, stop in bounds:
        c0 = time.process_time()
        pred[start:stop] = step(start, stop)
        cpu += time.process_time() - c0
        prog.update(stop)
        if cpu > opts.budget_s and stop < n:
            covered = stop
            break
    prog.done()
    return pred, cpu, time.perf_counter() - t0, covered


def run_bertopic(stream: Any, emb: np.ndarray, terms: list[list[str]], opts: Any) -> Run:
    """BERTopic's online pipeline, one ``partial_fit`` per micro-batch.

    IncrementalPCA(5) + MiniBatchKMeans(K = labels) + OnlineCountVectorizer
    (decay 0.01) as in BERTopic's online-topic-modeling guide, with our
    tokeniser as the vectoriser's analyzer so its keywords live in the same
    vocabulary NPMI is measured in. A document's topic is the one its own
    batch's ``partial_fit`` gave it. The first batch must hold >= K documents.
    """
    from bertopic import BERTopic
    from bertopic.vectorizers import OnlineCountVectorizer
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.decomposition import IncrementalPCA

    from workers.tokenize import tokenize

    n = len(stream)
    k = len(set(stream.labels))
    model = BERTopic(
        umap_model=IncrementalPCA(n_components=5),
        hdbscan_model=MiniBatchKMeans(n_clusters=k, random_state=0),
        vectorizer_model=OnlineCountVectorizer(decay=0.01, analyzer=tokenize),
        embedding_model=None,
        verbose=False,
    )
    size = max(opts.batch_size, k)
    # float64: IncrementalPCA hands MiniBatchKMeans float64 after its first batch
    # whatever came in, and the k-means kernel rejects a dtype change.
    emb64 = emb.astype(np.float64)

    def step(start: int, stop: int) -> Any:
        model.partial_fit(stream.texts[start:stop], embeddings=emb64[start:stop])
        return model.topics_

    pred, cpu, wall, covered = budgeted_replay(
        "bertopic-online", n, batches(n, size, min_last=max(k, 5)), step, opts
    )
    words = []
    for topic, count in sorted(model.topic_sizes_.items()):
        if topic >= 0 and count >= MIN_TOPIC_SIZE:
            ws = [w for w, _ in (model.get_topic(topic) or [])][:TOP_WORDS]
            if any(ws):
                words.append([w for w in ws if w])
    return Run("bertopic-online", pred[:covered], cpu, wall, words, {"k": k, "batch": size})


def run_streamkmeans(stream: Any, emb: np.ndarray, terms: list[list[str]], opts: Any) -> Run:
    """River STREAMKMeans through our ``river-streamkmeans`` backend, K = labels."""
    from workers.engines import make_engine
    from workers.evaluation import topic_word_lists

    n = len(stream)
    k = len(set(stream.labels))
    engine = make_engine("river-streamkmeans", emb.shape[1], n_clusters=k)

    def step(start: int, stop: int) -> Any:
        sl = slice(start, stop)
        res = engine.learn_many(emb[sl], stream.ts[sl], stream.texts[sl], stream.ids[sl], terms[sl])
        return res.topic_ids

    pred, cpu, wall, covered = budgeted_replay(
        "river-streamkmeans", n, batches(n, opts.batch_size), step, opts
    )
    words = topic_word_lists(engine, MIN_TOPIC_SIZE, TOP_WORDS)
    return Run("river-streamkmeans", pred[:covered], cpu, wall, words, {"k": k})


def dbstream_radius(cosine: float) -> float:
    """Euclidean radius between unit vectors at a given cosine: ``sqrt(2 - 2 cos)``."""
    return float(np.sqrt(2.0 - 2.0 * cosine))


def run_dbstream(
    stream: Any, emb: np.ndarray, terms: list[list[str]], opts: Any
) -> tuple[Run, Run]:
    """River DBSTREAM, scored twice: its macro-cluster prediction and the nearest micro-cluster.

    One pass: per document ``learn_one``, then ``predict_one`` (the macro
    cluster, River's public answer; River renumbers macro clusters at every
    re-clustering, so an id does not keep its meaning over time), then the
    nearest micro-cluster (whose ids are stable while it lives). Each row's
    CPU time is learning plus its own prediction.
    """
    from river import cluster
    from river.utils.math import minkowski_distance

    n = len(stream)
    model = cluster.DBSTREAM(clustering_threshold=dbstream_radius(opts.dbstream_cosine))
    macro = np.full(n, -1, dtype=np.int64)
    micro = np.full(n, -1, dtype=np.int64)
    prog = Progress(f"river-dbstream ({n:,} docs)", n, opts.quiet)
    learn_s = macro_s = micro_s = 0.0
    t0, covered = time.perf_counter(), n
    max_micro = 0
    for start, stop in batches(n, opts.batch_size):
        for i in range(start, stop):
            c0 = time.process_time()
            features = dict(enumerate(emb[i].tolist()))
            model.learn_one(features)
            c1 = time.process_time()
            macro[i] = model.predict_one(features)
            c2 = time.process_time()
            mcs = model.micro_clusters
            micro[i] = min(mcs, key=lambda j: minkowski_distance(mcs[j].center, features, 2))
            c3 = time.process_time()
            learn_s += c1 - c0
            macro_s += c2 - c1
            micro_s += c3 - c2
        max_micro = max(max_micro, len(model.micro_clusters))
        prog.update(stop)
        if learn_s + macro_s + micro_s > opts.budget_s and stop < n:
            covered = stop
            break
    prog.done()
    wall = time.perf_counter() - t0
    notes = {
        "clustering_threshold": model.clustering_threshold,
        "cosine": opts.dbstream_cosine,
        "max_micro_clusters": max_micro,
    }
    macro, micro = macro[:covered], micro[:covered]
    t = terms[:covered]
    return (
        Run(
            "river-dbstream-macro",
            macro,
            learn_s + macro_s,
            wall,
            words_from_assignments(macro, t),
            notes,
        ),
        Run(
            "river-dbstream-micro",
            micro,
            learn_s + micro_s,
            wall,
            words_from_assignments(micro, t),
            notes,
        ),
    )


# -------------------------------------------------------------- scoring
def score_run(run: Run, stream: Any, terms: list[list[str]]) -> dict[str, Any]:
    """The yardsticks for one run, on the documents it covered."""
    from workers.metrics import bcubed, npmi_coherence, partition_scores, topic_diversity

    m = len(run.pred)
    labels = stream.labels[:m]
    p, r, f = bcubed(labels, run.pred)
    assigned = run.pred[run.pred >= 0]
    return {
        "method": run.method,
        "n_docs": m,
        "n_labels": len(set(labels)),
        "n_topics": len(np.unique(assigned)),
        "unassigned_share": float(np.mean(run.pred < 0)) if m else 0.0,
        "bcubed_precision": p,
        "bcubed_recall": r,
        "bcubed_f1": f,
        **partition_scores(labels, run.pred),
        "npmi_coherence": npmi_coherence(run.words, [set(t) for t in terms[:m]]),
        "topic_diversity": topic_diversity(run.words),
        "n_scored_topics": len(run.words),
        "cpu_s": run.cpu_s,
        "wall_s": run.wall_s,
        "docs_per_s": m / max(run.cpu_s, 1e-9),
        **run.notes,
    }


#: Printed columns: (key, header, format).
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("method", "method", "{}"),
    ("n_docs", "docs", "{:,}"),
    ("bcubed_precision", "B3-P", "{:.3f}"),
    ("bcubed_recall", "B3-R", "{:.3f}"),
    ("bcubed_f1", "B3-F1", "{:.3f}"),
    ("ami", "AMI", "{:.3f}"),
    ("ari", "ARI", "{:.3f}"),
    ("nmi", "NMI", "{:.3f}"),
    ("npmi_coherence", "NPMI", "{:.3f}"),
    ("topic_diversity", "div", "{:.3f}"),
    ("n_topics", "topics", "{:,}"),
    ("unassigned_share", "unass", "{:.3f}"),
    ("docs_per_s", "docs/s", "{:,.0f}"),
    ("cpu_s", "CPU s", "{:,.1f}"),
)


def format_table(rows: list[dict[str, Any]], footnotes: list[str]) -> str:
    """Rows grouped by the prefix they cover (largest first), one line per method."""
    cells = [[h for _, h, _ in COLUMNS]]
    prev = None
    for row in sorted(rows, key=lambda r: -r["n_docs"]):
        if prev is not None and row["n_docs"] != prev:
            cells.append([])
        prev = row["n_docs"]
        cells.append([fmt.format(row[key]) for key, _, fmt in COLUMNS])
    widths = [max(len(c[i]) for c in cells if c) for i in range(len(COLUMNS))]
    lines = []
    for i, c in enumerate(cells):
        if not c:
            lines.append("")
            continue
        parts = [c[0].ljust(widths[0])] + [
            v.rjust(w) for v, w in zip(c[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(parts))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join([*lines, "", *footnotes])


# ------------------------------------------------------------------ main
METHODS = ("topictrack", "leader-follower", "bertopic", "streamkmeans", "dbstream")
#: Methods run on every prefix; River ones only on the River prefix.
FAST = ("topictrack", "leader-follower", "bertopic")
#: Methods also run on any shorter prefix a peer stopped at (cheap, the comparison rows).
ANCHORS = ("topictrack", "leader-follower")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from workers.evaluation import DEFAULT_BATCH

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default="crisislext26", help="name under ../shared/data/ or a .jsonl")
    p.add_argument("--limit", type=int, help="use only the first N documents of the stream")
    p.add_argument(
        "--river-limit",
        type=int,
        default=RIVER_LIMIT,
        help="documents the River peers see (default: %(default)s; 0 = all)",
    )
    p.add_argument(
        "--budget-s",
        type=float,
        default=BUDGET_S,
        help="CPU seconds per slow peer; it stops after the batch that passes it "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH, help="micro-batch (default: %(default)s)"
    )
    p.add_argument(
        "--dbstream-cosine",
        type=float,
        default=LEADER_FOLLOWER_THRESHOLD,
        help="cosine that DBSTREAM's radius stands for, r = sqrt(2 - 2 cos) (default: %(default)s)",
    )
    p.add_argument(
        "--methods",
        default=",".join(METHODS),
        help=f"comma-separated subset of {', '.join(METHODS)}",
    )
    p.add_argument(
        "--json", dest="json_out", help="output (default: bench/results/peers-<data>.json)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = p.parse_args(argv)
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(args.methods) - set(METHODS))
    if unknown:
        p.error(f"unknown method(s) {unknown}; choose from {', '.join(METHODS)}")
    if (args.limit is not None and args.limit < 1) or args.batch_size < 1 or args.river_limit < 0:
        p.error("--limit and --batch-size must be >= 1, --river-limit >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    path = resolve_data(args.data)
    if not path.is_file():
        print(f"peers: skipped, no labeled stream at {path}", file=sys.stderr)
        return 0
    from workers.evaluation import tokenize_stream

    stream, emb = load_stream_and_embeddings(path, args.limit, args.quiet)
    terms = tokenize_stream(stream)
    n = len(stream)
    river_n = min(n, args.river_limit or n)
    fast: dict[str, Callable[..., Run]] = {
        "topictrack": run_topictrack,
        "leader-follower": run_leader_follower,
        "bertopic": run_bertopic,
    }
    rows: list[dict[str, Any]] = []
    done: set[tuple[str, int]] = set()

    def run_on(name: str, m: int) -> list[Run]:
        part, e, t = prefix(stream, m), emb[:m], terms[:m]
        if name in fast:
            return [fast[name](part, e, t, args)]
        if name == "streamkmeans":
            return [run_streamkmeans(part, e, t, args)]
        return list(run_dbstream(part, e, t, args))

    def record(name: str, m: int) -> list[int]:
        """Run ``name`` on the first ``m`` docs; return the lengths its rows covered."""
        done.add((name, m))
        out = []
        for run in run_on(name, m):
            row = score_run(run, stream, terms)
            row["prefix_asked"] = m
            rows.append(row)
            out.append(row["n_docs"])
        return out

    prefixes = sorted({n, river_n}, reverse=True)
    covered: set[int] = set()
    for m in prefixes:
        for name in args.methods:
            if name in FAST or m == river_n:
                covered.update(record(name, m))
    # Peers that ran out of budget stopped early: score the anchors on those prefixes too.
    for m in sorted(covered - set(prefixes), reverse=True):
        for name in ANCHORS:
            if name in args.methods and (name, m) not in done:
                record(name, m)

    labels = len(set(stream.labels))
    k_by_docs = {r["n_docs"]: r["k"] for r in rows if "k" in r}
    ks = ", ".join(f"K={k} on {m:,} docs" for m, k in sorted(k_by_docs.items(), reverse=True))
    footnotes = [
        f"stream: {path} ({n:,} docs in event-time order, {labels} labels); "
        f"River peers on the first {river_n:,} docs; micro-batch {args.batch_size}.",
        "Rows are grouped by the prefix they cover: compare rows within a group only.",
        "K from labels: bertopic-online and river-streamkmeans are given K = number of labels in "
        f"their prefix ({ks}; the peers' advantage: topictrack and the others find the number of "
        "topics themselves).",
        "docs/s and CPU s: process CPU time of the clusterer alone (embeddings precomputed); "
        "topictrack, bertopic-online and river-streamkmeans include their keyword upkeep, "
        "leader-follower and DBSTREAM keep no keywords (their NPMI/diversity use our c-TF-IDF "
        "on their assignments, untimed).",
        f"river-dbstream: clustering_threshold = sqrt(2 - 2*{args.dbstream_cosine}) = "
        f"{dbstream_radius(args.dbstream_cosine):.3f}, the Euclidean radius of cosine "
        f"{args.dbstream_cosine} between unit vectors; other settings River's defaults. "
        "macro = predict_one (ids renumbered at every re-clustering), "
        "micro = nearest micro-cluster.",
        "unassigned documents (topictrack's outlier buffer) count as singleton clusters.",
    ]
    print(format_table(rows, footnotes))
    out = Path(args.json_out) if args.json_out else RESULTS / f"peers-{data_name(path)}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "data": str(path),
        "n_docs": n,
        "n_labels": labels,
        "river_limit": river_n,
        "batch_size": args.batch_size,
        "budget_s": args.budget_s,
        "rows": rows,
        "footnotes": footnotes,
    }
    out.write_text(json.dumps(payload, indent=2, default=float) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
