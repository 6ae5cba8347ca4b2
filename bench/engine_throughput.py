"""Throughput and memory of our topic engine alone, on precomputed embeddings.

Three measurements, each timing the best of ``--repeats`` runs (the machine is
shared and noisy; the best run is the one least disturbed), with process CPU
time of the engine calls only, as ``topictrack eval`` reports it:

(a) the real labeled stream (default CrisisLexT26) replayed at micro-batches
    of 16, 64 and 256 documents;
(b) a synthetic stream that keeps about 1,000 topics live at once: 1,000
    random unit centroids, documents = centroid + Gaussian noise, normalised,
    one second apart so no topic goes dormant. A warm-up gives every topic
    its first documents in a run (so each is born), then the measured part
    interleaves the topics at random;
(c) resident memory of the process before the engine exists, after 10,000
    documents and after the whole stream, for both streams: flat means the
    engine's state does not grow with stream length.

Run ``python bench/engine_throughput.py --help``.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import RESULTS, data_name, load_stream_and_embeddings, resolve_data

#: Issue #3's throughput target (docs/s, embeddings precomputed).
TARGET_DOCS_PER_S = 50_000
BATCH_SIZES = (16, 64, 256)


def synthetic_stream(
    n_topics: int, warm_per_topic: int, n_steady: int, dim: int, noise: float, seed: int
) -> tuple[Any, np.ndarray, list[list[str]], int]:
    """A labeled stream over ``n_topics`` fixed random directions, and its embeddings.

    ``noise`` is the expected norm of the Gaussian noise added to a unit
    centroid: at 0.75 a document sits at cosine ~0.8 from its topic and ~0.64
    from a sibling, so siblings agree at the engine's birth threshold (0.5)
    and join at its assignment threshold (0.3), while random centroids in 384
    dimensions are ~0.05 apart and never merge. Returns the stream (warm-up
    first, then the interleaved part), embeddings, terms, and the warm-up length.
    """
    from workers.evaluation import LabeledStream

    rng = np.random.default_rng(seed)
    cents = rng.standard_normal((n_topics, dim)).astype(np.float32)
    cents /= np.linalg.norm(cents, axis=1, keepdims=True)
    warm = np.repeat(np.arange(n_topics), warm_per_topic)
    steady = rng.integers(0, n_topics, n_steady)
    topic = np.concatenate([warm, steady])
    n = len(topic)
    x = cents[topic] + rng.standard_normal((n, dim)).astype(np.float32) * (noise / np.sqrt(dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    # Keyword terms: four of the topic's eight words and two from a shared pool.
    own = rng.integers(0, 8, (n, 4))
    pool = rng.integers(0, 5000, (n, 2))
    terms = [
        [f"t{t}w{w}" for w in own[i]] + [f"common{p}" for p in pool[i]]
        for i, t in enumerate(topic.tolist())
    ]
    stream = LabeledStream(
        ids=[str(i) for i in range(n)],
        ts=1.6e9 + np.arange(n, dtype=np.float64),
        texts=[" ".join(t) for t in terms],
        labels=[str(t) for t in topic.tolist()],
        file_order=np.arange(n),
    )
    return stream, x, terms, len(warm)


def slice_stream(stream: Any, start: int, stop: int) -> Any:
    """Documents ``start:stop`` of a :class:`LabeledStream`."""
    from workers.evaluation import LabeledStream

    return LabeledStream(
        ids=stream.ids[start:stop],
        ts=stream.ts[start:stop],
        texts=stream.texts[start:stop],
        labels=stream.labels[start:stop],
        file_order=stream.file_order[start:stop],
    )


def timed_replay(engine: Any, emb: np.ndarray, stream: Any, terms: list, batch: int) -> Any:
    """One replay without progress output; live-topic counts sampled after every batch."""
    from workers.evaluation import replay

    live: list[int] = []
    res = replay(
        engine,
        emb,
        stream,
        terms,
        batch,
        on_batch=lambda *_: live.append(int(engine.stats()["live_topics"])),
        progress=False,
    )
    res.live = live  # type: ignore[attr-defined]
    return res


def real_stream_bench(
    stream: Any, emb: np.ndarray, terms: list, batch_sizes: list[int], repeats: int
) -> list[dict[str, Any]]:
    """(a): best-of-``repeats`` docs/s per micro-batch size on the real stream."""
    from workers.engines import make_engine
    from workers.metrics import bcubed, partition_scores

    out = []
    n = len(stream)
    for batch in batch_sizes:
        secs = []
        for rep in range(repeats):
            engine = make_engine("topictrack", emb.shape[1])
            res = timed_replay(engine, emb, stream, terms, batch)
            secs.append(res.engine_seconds)
            sys.stderr.write(
                f"real stream, batch {batch}, run {rep + 1}/{repeats}: "
                f"{n / res.engine_seconds:,.0f} docs/s\n"
            )
        _, _, f1 = bcubed(stream.labels, res.pred)
        out.append(
            {
                "stream": "real",
                "batch_size": batch,
                "n_docs": n,
                "cpu_s_runs": secs,
                "best_docs_per_s": n / min(secs),
                "median_docs_per_s": n / float(np.median(secs)),
                "live_topics_end": res.live[-1] if res.live else 0,
                "live_topics_max": max(res.live, default=0),
                "bcubed_f1": f1,
                "ami": partition_scores(stream.labels, res.pred)["ami"],
            }
        )
    return out


def synthetic_bench(
    stream: Any, emb: np.ndarray, terms: list, n_warm: int, batch_sizes: list[int], repeats: int
) -> list[dict[str, Any]]:
    """(b): births during the warm-up, then best-of-``repeats`` docs/s with ~1,000 live topics."""
    from workers.engines import make_engine
    from workers.metrics import bcubed

    warm = slice_stream(stream, 0, n_warm)
    steady = slice_stream(stream, n_warm, len(stream))
    n_steady = len(steady)
    out = []
    for batch in batch_sizes:
        warm_s, steady_s = [], []
        for rep in range(repeats):
            engine = make_engine("topictrack", emb.shape[1])
            w = timed_replay(engine, emb[:n_warm], warm, terms[:n_warm], batch)
            live_after_warm = int(engine.stats()["live_topics"])
            s = timed_replay(engine, emb[n_warm:], steady, terms[n_warm:], batch)
            warm_s.append(w.engine_seconds)
            steady_s.append(s.engine_seconds)
            sys.stderr.write(
                f"synthetic, batch {batch}, run {rep + 1}/{repeats}: warm-up "
                f"{n_warm / w.engine_seconds:,.0f} docs/s, "
                f"steady {n_steady / s.engine_seconds:,.0f} docs/s, "
                f"live {min(s.live)}-{max(s.live)}\n"
            )
        stats = engine.stats()
        _, _, f1 = bcubed(steady.labels, s.pred)
        out.append(
            {
                "stream": "synthetic",
                "batch_size": batch,
                "n_warm": n_warm,
                "n_docs": n_steady,
                "warm_cpu_s_runs": warm_s,
                "cpu_s_runs": steady_s,
                "warm_best_docs_per_s": n_warm / min(warm_s),
                "best_docs_per_s": n_steady / min(steady_s),
                "median_docs_per_s": n_steady / float(np.median(steady_s)),
                "live_topics_after_warmup": live_after_warm,
                "live_topics_min": min(s.live),
                "live_topics_max": max(s.live),
                "live_topics_end": int(stats["live_topics"]),
                "dormant_topics_end": int(stats["dormant_topics"]),
                "topics_ever": int(stats["topics_ever"]),
                "unassigned_share": float(np.mean(s.pred < 0)),
                "bcubed_f1": f1,
            }
        )
    return out


def shifted(stream: Any, offset_s: float) -> Any:
    """The same documents ``offset_s`` seconds later in event time."""
    from workers.evaluation import LabeledStream

    return LabeledStream(
        stream.ids, stream.ts + offset_s, stream.texts, stream.labels, stream.file_order
    )


def memory_pass(
    name: str,
    stream: Any,
    emb: np.ndarray,
    terms: list,
    batch: int,
    n_warm: int = 0,
    passes: int = 1,
    shift_s: float = 0.0,
) -> dict[str, Any]:
    """(c): process RSS before the engine, after 10k documents, after one pass and after all.

    The stream (after its warm-up, which is not counted) is replayed
    ``passes`` times, each ``shift_s`` seconds of event time after the one
    before, so the engine sees a stream ``passes`` times as long: resident
    memory must stop growing once the bounded structures (live set, buffer,
    recent ring, dormant and keyword caps) have filled.
    """
    from workers.engines import make_engine
    from workers.evaluation import RSS_PROBE_DOCS, rss_mb

    gc.collect()
    before = rss_mb()
    engine = make_engine("topictrack", emb.shape[1])
    if n_warm:
        timed_replay(engine, emb[:n_warm], slice_stream(stream, 0, n_warm), terms[:n_warm], batch)
    rest = slice_stream(stream, n_warm, len(stream))
    after_pass, snap_kb = [], []
    for k in range(passes):
        res = timed_replay(engine, emb[n_warm:], shifted(rest, k * shift_s), terms[n_warm:], batch)
        if k == 0:
            at_probe = res.rss_at_probe
        after_pass.append(res.rss_end)
        snap_kb.append(len(engine.snapshot()) / 1024)
    stats = engine.stats()
    row = {
        "stream": name,
        "batch_size": batch,
        "n_docs": len(rest),
        "passes": passes,
        "pass_shift_s": shift_s,
        "probe_docs": RSS_PROBE_DOCS,
        "rss_mb_before": before,
        "rss_mb_after_10k": at_probe,
        "rss_mb_after_pass": after_pass,
        "rss_mb_end_first_pass": after_pass[0],
        "rss_mb_end": after_pass[-1],
        "growth_10k_to_first_pass_mb": after_pass[0] - at_probe,
        "growth_first_pass_to_end_mb": after_pass[-1] - after_pass[0],
        "snapshot_kb_after_pass": snap_kb,
        "live_topics_end": int(stats["live_topics"]),
        "dormant_topics_end": int(stats["dormant_topics"]),
        "topics_ever": int(stats["topics_ever"]),
    }
    del engine
    gc.collect()
    return row


def rule(*widths: int) -> str:
    """The dashes under a table header."""
    return "  ".join("-" * w for w in widths)


def format_tables(
    speed: list[dict[str, Any]], memory: list[dict[str, Any]], notes: list[str]
) -> str:
    """The throughput table and the memory table as printed."""
    lines = [
        f"{'stream':<10}  {'batch':>5}  {'docs':>7}  {'best docs/s':>11}  {'median':>9}  "
        f"{'warm-up docs/s':>14}  {'live topics':>11}  {'B3-F1':>5}",
        rule(10, 5, 7, 11, 9, 14, 11, 5),
    ]
    for r in speed:
        live = (
            f"{r['live_topics_min']}-{r['live_topics_max']}"
            if r["stream"] == "synthetic"
            else f"{r['live_topics_end']} (max {r['live_topics_max']})"
        )
        warm = f"{r['warm_best_docs_per_s']:,.0f}" if "warm_best_docs_per_s" in r else "-"
        lines.append(
            f"{r['stream']:<10}  {r['batch_size']:>5}  {r['n_docs']:>7,}  "
            f"{r['best_docs_per_s']:>11,.0f}  {r['median_docs_per_s']:>9,.0f}  {warm:>14}  "
            f"{live:>11}  {r['bcubed_f1']:>5.3f}"
        )
    lines += [
        "",
        f"{'stream':<10}  {'docs/pass':>9}  {'passes':>6}  {'RSS before':>10}  {'after 10k':>9}  "
        f"{'after 1 pass':>12}  {'after all':>9}  {'snapshot 1 pass/all':>19}  {'topics ever':>11}",
        rule(10, 9, 6, 10, 9, 12, 9, 19, 11),
    ]
    for m in memory:
        snap = m["snapshot_kb_after_pass"]
        lines.append(
            f"{m['stream']:<10}  {m['n_docs']:>9,}  {m['passes']:>6}  "
            f"{m['rss_mb_before']:>7,.0f} MB  {m['rss_mb_after_10k']:>6,.0f} MB  "
            f"{m['rss_mb_end_first_pass']:>9,.0f} MB  {m['rss_mb_end']:>6,.0f} MB  "
            f"{f'{snap[0]:,.0f} / {snap[-1]:,.0f} kB':>19}  {m['topics_ever']:>11,}"
        )
    return "\n".join([*lines, "", *notes])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default="crisislext26", help="name under ../shared/data/ or a .jsonl")
    p.add_argument("--limit", type=int, help="use only the first N documents of the real stream")
    p.add_argument("--batch-sizes", default=",".join(map(str, BATCH_SIZES)), help="comma-separated")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per setting (best reported)")
    p.add_argument("--topics", type=int, default=1000, help="synthetic live topics")
    p.add_argument("--warm-per-topic", type=int, default=8, help="warm-up documents per topic")
    p.add_argument(
        "--steady-docs", type=int, default=50_000, help="synthetic interleaved documents"
    )
    p.add_argument("--noise", type=float, default=0.75, help="norm of the synthetic noise")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--passes", type=int, default=3, help="replays of each stream in the memory pass"
    )
    p.add_argument(
        "--json",
        dest="json_out",
        help="output (default: bench/results/engine-throughput-<data>.json)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = p.parse_args(argv)
    sizes = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    if not sizes or min(sizes) < 1 or args.repeats < 1 or args.passes < 1:
        p.error("--batch-sizes must be positive integers, --repeats and --passes >= 1")
    if args.quiet:
        sys.stderr = open("/dev/null", "w")  # noqa: SIM115 (for the lifetime of the process)

    from workers.evaluation import DEFAULT_BATCH, tokenize_stream

    path = resolve_data(args.data)
    real: tuple | None = None
    if path.is_file():
        stream, emb = load_stream_and_embeddings(path, args.limit, args.quiet)
        real = (stream, emb, tokenize_stream(stream))
    else:
        print(
            f"engine_throughput: no labeled stream at {path}; synthetic stream only",
            file=sys.stderr,
        )
    dim = real[1].shape[1] if real else 384
    syn, syn_emb, syn_terms, n_warm = synthetic_stream(
        args.topics, args.warm_per_topic, args.steady_docs, dim, args.noise, args.seed
    )

    started = time.perf_counter()
    # Memory first, while the process is fresh (later runs leave allocator pools behind).
    memory = []
    if real:
        stream = real[0]
        # Each replay of the real stream comes a month after the last ended: its events are
        # new events to the engine (beyond the wake window), so topics keep being born.
        gap = float(stream.ts[-1] - stream.ts[0]) + 30 * 86400.0
        memory.append(memory_pass("real", *real, DEFAULT_BATCH, 0, args.passes, gap))
    memory.append(
        memory_pass(
            "synthetic",
            syn,
            syn_emb,
            syn_terms,
            DEFAULT_BATCH,
            n_warm,
            args.passes,
            float(args.steady_docs),
        )
    )
    speed = real_stream_bench(*real, sizes, args.repeats) if real else []
    speed += synthetic_bench(syn, syn_emb, syn_terms, n_warm, sizes, args.repeats)

    notes = [
        f"real: {path if real else '-'}; synthetic: {args.topics} random unit centroids "
        f"in {dim}-d, "
        f"{args.warm_per_topic} warm-up docs per topic in runs (the births; timed apart as "
        f"'warm-up docs/s'), then {args.steady_docs:,} docs interleaved at random (the 'docs' "
        f"column), noise norm {args.noise}, 1 s apart.",
        f"docs/s: process CPU time inside learn_many (plus the final keyword fold), best and "
        f"median of {args.repeats} runs, fresh engine each run; target >= {TARGET_DOCS_PER_S:,}.",
        "live topics: real = at the end (max over the run); synthetic = min-max after each "
        "batch of the interleaved part.",
        "memory: process RSS before the engine is built, after 10,000 docs (after the warm-up "
        "for the synthetic stream), after one pass of the stream and after all passes; each "
        "pass replays the stream later in event time (real: a month after the previous pass, "
        "so its events are new topics; synthetic: continuing the same topics); snapshot = "
        "engine.snapshot() size.",
    ]
    print(format_tables(speed, memory, notes))
    out = (
        Path(args.json_out)
        if args.json_out
        else RESULTS / f"engine-throughput-{data_name(path)}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "data": str(path) if real else None,
        "synthetic": {
            "topics": args.topics,
            "warm_per_topic": args.warm_per_topic,
            "steady_docs": args.steady_docs,
            "noise": args.noise,
            "seed": args.seed,
        },
        "target_docs_per_s": TARGET_DOCS_PER_S,
        "throughput": speed,
        "memory": memory,
        "wall_s": time.perf_counter() - started,
        "notes": notes,
    }
    out.write_text(json.dumps(payload, indent=2, default=float) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
