"""``topictrack eval``: score the topic engine on a labeled stream, without Kafka.

Embeds the stream with the configured model (cached on disk by model and file
content), replays it through the engine in event-time micro-batches, and
prints and writes the yardsticks of docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from streamer.cli.options import add_runtime_options, json_object
from streamer.config import ConfigError
from streamer.pipeline.params import alert_settings

#: Rows of the printed table: (key, label, format).
TABLE: tuple[tuple[str, str, str], ...] = (
    ("n_docs", "documents", "{:,}"),
    ("n_labels", "labels", "{:,}"),
    ("n_topics", "topics (assigned)", "{:,}"),
    ("topics_ever", "topics (ever born)", "{:,}"),
    ("unassigned_share", "unassigned share", "{:.3f}"),
    ("bcubed_precision", "B-cubed precision", "{:.3f}"),
    ("bcubed_recall", "B-cubed recall", "{:.3f}"),
    ("bcubed_f1", "B-cubed F1", "{:.3f}"),
    ("ami", "AMI", "{:.3f}"),
    ("ari", "ARI", "{:.3f}"),
    ("nmi", "NMI", "{:.3f}"),
    ("npmi_coherence", "NPMI coherence", "{:.3f}"),
    ("topic_diversity", "topic diversity", "{:.3f}"),
    ("engine_docs_per_s", "engine docs/s (these batches)", "{:,.0f}"),
    ("alerts_total", "alerts", "{:,}"),
    ("alerts_recall", "alert recall", "{:.3f}"),
    ("alerts_precision", "alert precision", "{:.3f}"),
    ("alerts_median_delay_docs", "alert median delay (docs)", "{:.1f}"),
    ("alerts_developments", "development alerts", "{:,}"),
    ("alerts_developments_unnamed", "developments naming an unannounced label", "{:,}"),
    ("alerts_p90_delay_docs", "alert p90 delay (docs)", "{:.1f}"),
    ("alerts_median_delay_minutes", "alert median delay (min)", "{:,.1f}"),
    ("false_alarms_per_day", "false alarms per day", "{:.3f}"),
    ("naive_alerts_total", "naive: alerts (every birth)", "{:,}"),
    ("naive_alerts_recall", "naive: alert recall", "{:.3f}"),
    ("naive_alerts_precision", "naive: alert precision", "{:.3f}"),
    ("naive_alerts_median_delay_docs", "naive: median delay (docs)", "{:.1f}"),
    ("naive_false_alarms_per_day", "naive: false alarms per day", "{:.3f}"),
    *(
        (f"{prefix}{key}", f"{name}: {label}", "{:.3f}")
        for prefix, name in (
            ("interest_", "interests"),
            ("sparse_only_", "interests, own topics only"),
            ("baseline_trending_", "trending"),
            ("baseline_last_topic_", "last topic"),
            ("baseline_counts_", "counts"),
            ("reference_gold_profile_", "gold-label profile"),
            ("reference_gold_counts_", "gold-label counts"),
        )
        for key, label in (
            ("recall_at_1", "topic recall@1"),
            ("recall_at_5", "topic recall@5"),
            ("mrr", "topic MRR"),
            ("label_recall_at_1", "label recall@1"),
            ("label_recall_at_5", "label recall@5"),
            ("label_mrr", "label MRR"),
        )
    ),
    ("interest_predictions", "interests: predictions", "{:,}"),
    ("interest_users", "interests: users", "{:,}"),
    ("rss_mb_after_10k", "RSS after 10k docs (MB)", "{:,.0f}"),
    ("rss_mb_end", "RSS at end (MB)", "{:,.0f}"),
    ("peak_rss_mb", "peak RSS (MB)", "{:,.0f}"),
)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from workers.evaluation import DEFAULT_BATCH, DEFAULT_SPAN_S

    p = subparsers.add_parser(
        "eval",
        help="score the topic engine on a labeled JSONL stream (no Kafka)",
        description="Replay a labeled stream (JSON lines with id, ts, text, label) through the "
        "engine in ts order and report B-cubed, AMI/ARI/NMI, NPMI coherence, topic diversity, "
        "engine throughput and memory. Embeddings are cached under $TOPICTRACK_CACHE "
        "(default ~/.cache/topictrack) keyed by model, runtime and file content.",
    )
    p.add_argument("file", help="labeled stream, one JSON object per line")
    p.add_argument("--json", dest="json_out", help="also write the results as JSON here")
    p.add_argument("--limit", type=int, help="evaluate only the first N documents")
    p.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH,
        help="most documents per micro-batch of the replay (default: %(default)s, as the "
        "track agent under load)",
    )
    p.add_argument(
        "--batch-span",
        type=float,
        default=DEFAULT_SPAN_S,
        metavar="SECONDS",
        help="also close a micro-batch once it spans this much event time (default: "
        "%(default)g, the pipeline's batching window: the stream as a live worker sees it; "
        "3600 = replayed 3600x faster; 0 = full batches only)",
    )
    p.add_argument("--no-alerts", action="store_true", help="skip the alerting evaluation")
    p.add_argument(
        "--alert-params",
        default="{}",
        type=json_object,
        help="alert settings as JSON (workers.alerts.AlertSettings), e.g. '{\"new_min_docs\": 5}'",
    )
    p.add_argument(
        "--engine",
        default="topictrack",
        help="topic engine: topictrack (default) or river-streamkmeans",
    )
    p.add_argument(
        "--engine-params",
        default="{}",
        type=json_object,
        help="engine settings as JSON, e.g. '{\"assign_threshold\": 0.35}'",
    )
    p.add_argument(
        "--interest-params",
        default="{}",
        type=json_object,
        help="user interest settings as JSON (workers.interests.InterestSettings), e.g. "
        "'{\"half_life_s\": 604800}'; scored on streams whose lines carry user_id",
    )
    p.add_argument(
        "--interest-sweep",
        default="",
        metavar="SECONDS,...",
        help="also score these profile half-lives in the same run (interest_sweep in the JSON)",
    )
    p.add_argument(
        "--granularity",
        action="store_true",
        help="multi-granularity for long documents: embed their sentences and bags of words "
        "too, learn the fused vectors, fuse the distributions (workers/granularity.py)",
    )
    p.add_argument(
        "--granularity-params",
        default="{}",
        type=json_object,
        help="workers.granularity.GranularitySettings as JSON, e.g. '{\"min_chars\": 400}'",
    )
    p.add_argument("--model", help="encoder folder or Hugging Face name (default: packaged)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    add_runtime_options(p)
    p.add_argument("--embed-batch", type=int, default=0, help="most texts per forward pass")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    return p


def run(args: argparse.Namespace) -> int:
    # The engine, metrics (scikit-learn) and model stack load here, not at --help.
    from workers.embedding import (
        DEFAULT_MAX_TOKENS,
        Embedder,
        default_model_path,
        resolve_device,
        resolve_runtime,
    )
    from workers.embedding_cache import cache_key, cached_embeddings, file_digest
    from workers.engines import make_engine
    from workers.evaluation import (
        AlertReplay,
        StreamFormatError,
        chain_hooks,
        load_labeled_stream,
        replay,
        score,
        tokenize_stream,
    )
    from workers.granularity import FusedHook, GranularitySettings
    from workers.interest_eval import InterestReplay
    from workers.interests import InterestSettings
    from workers.onnx_runtime import runtime_tag

    path = Path(args.file)
    if not path.is_file():
        print(f"topictrack eval: no such file: {path}", file=sys.stderr)
        return 2
    if args.limit is not None and args.limit < 1:
        print("topictrack eval: --limit must be >= 1", file=sys.stderr)
        return 2
    if args.batch_span < 0:
        print("topictrack eval: --batch-span must be >= 0 (0: full batches only)", file=sys.stderr)
        return 2
    batch_span = args.batch_span or None
    if args.batch_size < 1:
        print("topictrack eval: --batch-size must be >= 1", file=sys.stderr)
        return 2
    params = args.engine_params
    try:
        interest_settings = InterestSettings(**args.interest_params)
        granular = GranularitySettings(
            **{k: tuple(v) if k == "weights" else v for k, v in args.granularity_params.items()}
        )
        sweep = [float(x) for x in args.interest_sweep.split(",") if x.strip()]
    except (TypeError, ValueError) as exc:
        print(f"topictrack eval: --interest-params/--interest-sweep: {exc}", file=sys.stderr)
        return 2
    try:
        settings = alert_settings(args.alert_params)
        # A bad --engine/--engine-params must fail now, not after minutes of embedding;
        # the probe's dimension is irrelevant to the check.
        make_engine(args.engine, 8, **params)
    except (ConfigError, TypeError, ValueError) as exc:
        print(f"topictrack eval: {exc}", file=sys.stderr)
        return 2
    try:
        stream = load_labeled_stream(path, args.limit)
    except StreamFormatError as exc:
        print(f"topictrack eval: {exc}", file=sys.stderr)
        return 2
    if len(stream) == 0:
        print(f"topictrack eval: {path} has no documents", file=sys.stderr)
        return 2

    model_name = args.model or default_model_path()
    device = resolve_device(args.device)
    try:
        runtime = resolve_runtime(args.runtime, device)
    except ValueError as exc:
        print(f"topictrack eval: --runtime: {exc}", file=sys.stderr)
        return 2
    # The runtime is in the key: int8 vectors must never be read back as fp32 ones.
    key = cache_key(model_name, DEFAULT_MAX_TOKENS, file_digest(path), runtime_tag(runtime))
    embedder: list[Any] = []  # loaded only when something is not cached yet

    def encode(texts: list[str]) -> Any:
        if not embedder:
            embedder.append(
                Embedder(
                    args.model,
                    device=device,
                    batch_size=args.embed_batch,
                    runtime=runtime,
                    threads=args.embed_threads,
                )
            )
        return embedder[0].encode(texts)

    # The cache holds the file's documents in file order; the replay goes by ts.
    cached = cached_embeddings(stream.texts_in_file_order(), encode, key, progress=not args.quiet)
    embeddings = cached[stream.file_order]

    try:
        engine = make_engine(args.engine, embeddings.shape[1], **params)
    except (TypeError, ValueError) as exc:
        print(f"topictrack eval: {exc}", file=sys.stderr)
        return 2
    terms = tokenize_stream(stream)
    extra: dict[str, Any] = {}
    if args.granularity:
        embeddings, fused_parts, extra = _granular(
            stream, terms, embeddings, granular, encode, model_name, runtime, args.quiet
        )
    alerting = None if args.no_alerts else AlertReplay(engine, stream, settings)
    interests = None
    if stream.has_users():
        interests = InterestReplay(
            stream.users,
            stream.labels,
            stream.ts,
            embeddings,
            stream.ids,
            interest_settings,
            sweep,
            engine,
        )
    interest_hook: Any = interests
    if args.granularity and interests is not None:
        interest_hook = FusedHook(engine, *fused_parts, granular, interests)
    result = replay(
        engine,
        embeddings,
        stream,
        terms,
        args.batch_size,
        on_batch=chain_hooks(alerting, interest_hook),
        progress=not args.quiet,
        batch_span_s=batch_span,
    )
    metrics = score(engine, stream, terms, result)
    if alerting is not None:
        metrics.update(alerting.scores())
        metrics["alerts"] = alerting.alert_rows()  # why each alert fired (docs/evaluation.md)
    if interests is not None:
        metrics.update(interests.report())
    metrics.update(extra)
    metrics.update(
        {
            "file": str(path),
            "model": model_name,
            "runtime": runtime,
            "batch_size": args.batch_size,
            "batch_span_s": batch_span,
            "engine_params": params,
            "alert_params": args.alert_params,
        }
    )
    print_table(metrics)
    if args.json_out:
        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_out).write_text(json.dumps(metrics, indent=2, default=float) + "\n")
        print(f"wrote {args.json_out}")
    return 0


def _granular(
    stream: Any,
    terms: list[list[str]],
    embeddings: Any,
    settings: Any,
    encode: Any,
    model_name: str,
    runtime: str,
    quiet: bool,
) -> tuple[Any, tuple[Any, Any, Any], dict[str, Any]]:
    """Fused vectors of the stream, the levels for :class:`FusedHook`, and the extra cost."""
    # The model stack's modules, loaded here as in run(), not at `topictrack --help`.
    from workers.embedding import DEFAULT_MAX_TOKENS
    from workers.embedding_cache import cache_key, cached_embeddings
    from workers.granularity import fuse_vectors, levels
    from workers.onnx_runtime import runtime_tag

    lv = levels(stream.texts, terms, settings)
    texts = lv.sentences + lv.words
    digest = hashlib.sha256("\n\0".join(texts).encode()).hexdigest()[:16]
    key = cache_key(model_name, DEFAULT_MAX_TOKENS, digest, runtime_tag(runtime))
    t0 = time.perf_counter()
    spent: list[float] = []

    def timed(batch: list[str]) -> Any:
        t = time.perf_counter()
        out = encode(batch)
        spent.append(time.perf_counter() - t)
        return out

    vecs = cached_embeddings(texts, timed, key, progress=not quiet)
    sent_vecs, word_vecs = vecs[: len(lv.sentences)], vecs[len(lv.sentences) :]
    fused = fuse_vectors(embeddings, lv, sent_vecs, word_vecs, settings)
    doc_chars = sum(len(t) for t in stream.texts)
    extra = {
        "granularity": {
            "settings": {**settings.__dict__, "weights": list(settings.weights)},
            "long_docs": len(set(lv.sentence_doc.tolist()) | set(lv.word_doc.tolist())),
            "extra_texts": len(texts),
            "extra_texts_per_doc": len(texts) / max(len(stream), 1),
            "extra_chars_share": sum(len(t) for t in texts) / max(doc_chars, 1),
            # Seconds of encoding in this run (0 when the cache had them).
            "extra_embed_s": sum(spent),
            "wall_s": time.perf_counter() - t0,
        }
    }
    return fused, (lv, sent_vecs, word_vecs), extra


def print_table(metrics: dict[str, Any]) -> None:
    """Print the metrics as a two-column table."""
    width = max(len(label) for _, label, _ in TABLE)
    print(f"{'metric':<{width}}  value")
    print(f"{'-' * width}  -----")
    for key, label, fmt in TABLE:
        if key in metrics:
            print(f"{label:<{width}}  {fmt.format(metrics[key])}")
