"""Embedding runtimes side by side: speed, fidelity to torch fp32, and batching by tokens.

One command, three parts, every figure against torch fp32 measured in the same run:

(a) **runtimes**: docs/s of ``torch``, ``onnx`` and ``onnx-int8`` on a sample of
    CrisisLexT26 tweets spread over the whole file, at each ``--threads``
    count, in interleaved rounds (the machine is shared: each round runs every
    runtime once, so a noisy minute hits all of them), and the cosine of each
    runtime's vectors to torch fp32's on that sample;
(b) **fidelity gates** (unless ``--no-eval``): ``topictrack eval`` on the whole
    of CrisisLexT26 with each runtime (embeddings from the eval cache, which
    keys on the runtime; missing ones are embedded first), its B-cubed F1,
    AMI and alert recall minus torch fp32's, and the mean and minimum cosine
    to torch fp32 over all 27,932 tweets;
(c) **batching**: docs/s of the default CPU runtime on tweets, long documents
    (20 Newsgroups and Reuters) and a mix, fed as the embed stage's
    micro-batches of 64, with the old policy (16 texts per pass, sorted by
    length) and the token budget.

Prints the tables and writes JSON (``runtimes``: one object per runtime with
``runtime``, ``docs_per_s``, ``mean_cos``, ``min_cos``, ``bcubed_f1_delta`` and
``ami_delta``) to ``bench/results/embed_throughput.json``.
Run ``python bench/embed_throughput.py --help``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
RESULTS = REPO / "bench" / "results"
CRISIS = DATA / "crisislext26" / "stream.jsonl"
LONG_SETS = (DATA / "20newsgroups" / "stream.jsonl", DATA / "reuters21578" / "stream.jsonl")

#: The embed stage's micro-batch on a CPU (``take(64, ...)``): part (c) feeds
#: the embedder in calls of this many texts, as the pipeline does.
MICRO_BATCH = 64
#: The policy before token budgets: 16 texts per pass, sorted by length.
COUNT_POLICY = {"max_batch": 16, "token_budget": 1 << 30}


def load_avg() -> list[float]:
    """The 1, 5 and 15 minute load averages (the machine is shared)."""
    return [round(x, 2) for x in os.getloadavg()]


def sample_texts(path: Path, n: int, seed: int = 0) -> list[str]:
    """``n`` texts spread evenly over a JSON-lines file (every k-th line)."""
    with open(path, encoding="utf-8") as f:
        lines = [ln for ln in f if ln.strip()]
    step = max(1, len(lines) // n)
    picked = lines[::step][:n]
    random.Random(seed).shuffle(picked)
    return [json.loads(ln)["text"] for ln in picked]


def make_embedder(runtime: str, threads: int, **kw: Any) -> Any:
    from workers.embedding import Embedder

    emb = Embedder(device="cpu", runtime=runtime, threads=threads, **kw)
    emb.encode(["warm up the session and its caches"] * 8)
    return emb


def timed_encode(emb: Any, texts: list[str], micro: int) -> tuple[np.ndarray, float]:
    """Embed in calls of ``micro`` texts; return the vectors and the wall seconds."""
    started = time.perf_counter()
    parts = [emb.encode(texts[i : i + micro]) for i in range(0, len(texts), micro)]
    return np.concatenate(parts), time.perf_counter() - started


def set_torch_threads(threads: int) -> None:
    """torch's pool is process-wide: every torch embedder runs at the last count set."""
    import torch

    torch.set_num_threads(threads)


def part_runtimes(
    texts: list[str], runtimes: list[str], threads: list[int], rounds: int
) -> dict[str, Any]:
    """Docs/s per (runtime, threads), interleaved; cosine to torch fp32 on the sample."""
    embedders = {(r, t): make_embedder(r, t) for r in runtimes for t in threads}
    seconds: dict[tuple[str, int], list[float]] = {k: [] for k in embedders}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(rounds):
        for (runtime, t), emb in embedders.items():
            if runtime == "torch":
                set_torch_threads(t)
            vec, dt = timed_encode(emb, texts, MICRO_BATCH)
            seconds[(runtime, t)].append(dt)
            vectors.setdefault(runtime, vec)
    ref = vectors["torch"]
    out: dict[str, Any] = {}
    for runtime in runtimes:
        cos = (vectors[runtime] * ref).sum(axis=1)
        out[runtime] = {
            "docs_per_s_by_threads": {
                str(t): round(len(texts) / statistics.median(seconds[(runtime, t)]), 1)
                for t in threads
            },
            "seconds_by_threads": {str(t): seconds[(runtime, t)] for t in threads},
            "sample_mean_cos": float(cos.mean()),
            "sample_min_cos": float(cos.min()),
        }
    return out


def run_eval(runtime: str, threads: int, json_out: Path) -> dict[str, Any]:
    """``topictrack eval`` on CrisisLexT26 with ``runtime``; its JSON results."""
    cmd = [
        sys.executable,
        "-m",
        "streamer.cli",
        "eval",
        str(CRISIS),
        "--runtime",
        runtime,
        "--embed-threads",
        str(threads),
        "--quiet",
        "--json",
        str(json_out),
    ]
    res = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"eval with --runtime {runtime} failed:\n{res.stdout}\n{res.stderr}")
    return json.loads(json_out.read_text())


def cached_vectors(runtime: str) -> np.ndarray:
    """CrisisLexT26's embeddings with ``runtime`` from the eval cache (eval filled it)."""
    from workers.embedding import DEFAULT_MAX_TOKENS, default_model_path
    from workers.embedding_cache import cache_key, default_cache_dir, file_digest
    from workers.onnx_runtime import runtime_tag

    tag = runtime_tag(runtime)
    key = cache_key(default_model_path(), DEFAULT_MAX_TOKENS, file_digest(CRISIS), tag)
    return np.load(default_cache_dir() / f"{key}.npy")


def part_fidelity(runtimes: list[str], threads: int, workdir: Path) -> dict[str, Any]:
    evals = {r: run_eval(r, threads, workdir / f"eval-{r}.json") for r in runtimes}
    ref = cached_vectors("torch")
    base = evals["torch"]
    out = {}
    for r in runtimes:
        cos = (cached_vectors(r) * ref).sum(axis=1)
        e = evals[r]
        out[r] = {
            "mean_cos": float(cos.mean()),
            "min_cos": float(cos.min()),
            "p01_cos": float(np.quantile(cos, 0.01)),
            "bcubed_f1": e["bcubed_f1"],
            "ami": e["ami"],
            "alerts_recall": e.get("alerts_recall"),
            "bcubed_f1_delta": e["bcubed_f1"] - base["bcubed_f1"],
            "ami_delta": e["ami"] - base["ami"],
            "alerts_recall_delta": (e.get("alerts_recall") or 0) - (base.get("alerts_recall") or 0),
        }
    return out


def part_batching(runtime: str, threads: int, n: int, rounds: int) -> dict[str, Any]:
    """Docs/s of ``runtime`` with the count policy and the token budget, per text kind."""
    tweets = sample_texts(CRISIS, n, seed=1)
    long_docs: list[str] = []
    for path in LONG_SETS:
        if path.exists():
            long_docs += sample_texts(path, n // 2, seed=2)
    # A mix as a shared stream would carry it: mostly short posts, one in ten long.
    mix = tweets[: n - n // 10] + long_docs[: n // 10]
    random.Random(3).shuffle(mix)
    kinds = {"tweets": tweets, "long": long_docs, "mix": mix}
    from workers.embedding import CPU_POLICY

    policies = {
        "count16": COUNT_POLICY,
        "tokens": {"max_batch": CPU_POLICY.max_batch, "token_budget": CPU_POLICY.token_budget},
    }
    embedders = {
        name: make_embedder(
            runtime, threads, batch_size=pol["max_batch"], token_budget=pol["token_budget"]
        )
        for name, pol in policies.items()
    }
    if runtime == "torch":
        set_torch_threads(threads)
    seconds: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for kind, texts in kinds.items():
            if not texts:
                continue
            for name, emb in embedders.items():
                _, dt = timed_encode(emb, texts, MICRO_BATCH)
                seconds.setdefault((kind, name), []).append(dt)
    out: dict[str, Any] = {"runtime": runtime, "threads": threads, "kinds": {}}
    for kind, texts in kinds.items():
        if not texts:
            continue
        row = {
            name: round(len(texts) / statistics.median(seconds[(kind, name)]), 1)
            for name in policies
        }
        row["docs"] = len(texts)
        row["speedup"] = round(row["tokens"] / row["count16"], 3)
        out["kinds"][kind] = row
    out["policies"] = {k: dict(v) for k, v in policies.items()}
    return out


def print_tables(result: dict[str, Any]) -> None:
    threads = result["threads"]
    print(f"\n(a)+(b) runtimes against torch fp32 (load average {result['load_avg']['a']})")
    head = "".join(f"{'docs/s t=' + str(t):>14}" for t in threads)
    print(
        f"{'runtime':<10}{head}{'x torch':>9}{'mean cos':>10}{'min cos':>9}"
        f"{'dF1':>8}{'dAMI':>8}{'dRecall':>9}"
    )
    for row in result["runtimes"]:
        rates = "".join(f"{row['docs_per_s_by_threads'][str(t)]:>14,.0f}" for t in threads)

        def f(key: str, fmt: str = "{:+.3f}", row: dict = row) -> str:
            v = row.get(key)
            return fmt.format(v) if v is not None else "-"

        print(
            f"{row['runtime']:<10}{rates}{row['speedup_vs_torch']:>9.2f}"
            f"{f('mean_cos', '{:.4f}'):>10}{f('min_cos', '{:.4f}'):>9}"
            f"{f('bcubed_f1_delta'):>8}{f('ami_delta'):>8}{f('alerts_recall_delta'):>9}"
        )
    b = result.get("batching")
    if b:
        print(
            f"\n(c) batching, {b['runtime']} with {b['threads']} thread(s), micro-batches of "
            f"{MICRO_BATCH} (load average {result['load_avg']['c']})"
        )
        print(f"{'texts':<8}{'docs':>6}{'16/pass':>10}{'tokens':>10}{'x':>7}")
        for kind, row in b["kinds"].items():
            print(
                f"{kind:<8}{row['docs']:>6}{row['count16']:>10,.0f}{row['tokens']:>10,.0f}"
                f"{row['speedup']:>7.2f}"
            )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--texts", type=int, default=1500, help="tweets in the speed sample")
    ap.add_argument("--runtimes", default="torch,onnx,onnx-int8")
    ap.add_argument("--threads", default="1,2", help="intra-op thread counts to time")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median taken)")
    ap.add_argument("--no-eval", action="store_true", help="skip (b), the eval gates")
    ap.add_argument("--no-batching", action="store_true", help="skip (c)")
    ap.add_argument("--batching-texts", type=int, default=400, help="texts per kind in (c)")
    ap.add_argument("--json", default=str(RESULTS / "embed_throughput.json"))
    args = ap.parse_args(argv)
    if not CRISIS.exists():
        print(f"no CrisisLexT26 stream at {CRISIS}", file=sys.stderr)
        return 2
    from workers.embedding import DEFAULT_CPU_RUNTIME, DEFAULT_CPU_THREADS

    runtimes = [r.strip() for r in args.runtimes.split(",") if r.strip()]
    if "torch" not in runtimes:
        runtimes.insert(0, "torch")  # the reference
    threads = [int(t) for t in args.threads.split(",")]
    out_path = Path(args.json)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "threads": threads,
        "sample_texts": args.texts,
        "rounds": args.rounds,
        "load_avg": {"start": load_avg()},
    }
    texts = sample_texts(CRISIS, args.texts)
    t0 = time.time()
    speed = part_runtimes(texts, runtimes, threads, args.rounds)
    result["load_avg"]["a"] = load_avg()
    print(f"(a) {time.time() - t0:.0f}s", file=sys.stderr)
    fidelity: dict[str, Any] = {}
    if not args.no_eval:
        t0 = time.time()
        fidelity = part_fidelity(runtimes, max(threads), out_path.parent)
        result["load_avg"]["b"] = load_avg()
        print(f"(b) {time.time() - t0:.0f}s", file=sys.stderr)
    default_threads = DEFAULT_CPU_THREADS if DEFAULT_CPU_THREADS in threads else threads[0]
    torch_rate = speed["torch"]["docs_per_s_by_threads"][str(default_threads)]
    rows = []
    for r in runtimes:
        rate = speed[r]["docs_per_s_by_threads"][str(default_threads)]
        row = {
            "runtime": r,
            "threads": default_threads,
            "docs_per_s": rate,
            "speedup_vs_torch": round(rate / torch_rate, 3),
            **speed[r],
            # Fidelity over the whole stream when (b) ran, else on the sample.
            "mean_cos": fidelity.get(r, {}).get("mean_cos", speed[r]["sample_mean_cos"]),
            "min_cos": fidelity.get(r, {}).get("min_cos", speed[r]["sample_min_cos"]),
            "cos_over": "crisislext26 (all)" if fidelity else f"{args.texts}-tweet sample",
            "bcubed_f1_delta": fidelity.get(r, {}).get("bcubed_f1_delta"),
            "ami_delta": fidelity.get(r, {}).get("ami_delta"),
        }
        row.update({k: v for k, v in fidelity.get(r, {}).items() if k not in row})
        rows.append(row)
    result["runtimes"] = rows
    if not args.no_batching:
        t0 = time.time()
        result["batching"] = part_batching(
            DEFAULT_CPU_RUNTIME, DEFAULT_CPU_THREADS, args.batching_texts, args.rounds
        )
        result["load_avg"]["c"] = load_avg()
        print(f"(c) {time.time() - t0:.0f}s", file=sys.stderr)
    print_tables(result)
    out_path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
