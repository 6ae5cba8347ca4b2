"""The whole pipeline against its bare model, in one run: events/s, ratio, latency.

For each ``--runtimes`` entry a fresh worker process runs what ``topictrack
run`` runs (embedded tansu broker, one Faust worker with embed, track and sink,
chdb), and in the same process, before the pipeline starts, the bare model
(``workers.embedding.Embedder.encode``, same runtime, device, threads and batch
policy, in the embed stage's micro-batches) embeds the same texts:

1. **bare model**: docs/s of the embedder alone on the capacity texts;
2. **capacity**: ``--events`` CrisisLexT26 tweets produced unpaced by a
   separate producer process (kafka-python, as ``topictrack produce``);
   end-to-end events/s = events / (last row inserted into ClickHouse - first
   event sent);
3. **latency**: new tweets produced at 80 % of that capacity for
   ``--latency-seconds``; per event, the time from its send to the insert of
   its row returning (the row is then visible to any reader); p50/p95/p99.

``ratio`` = end to end / bare model. Prints a table and writes JSON
(``bench/results/pipeline_throughput.json``): the keys of the first runtime
at the top level (``bare_model_docs_per_s``, ``end_to_end_events_per_s``,
``ratio``, ``latency_p50_s``/``p95_s``/``p99_s``, ``runtime``, ``device``,
``batch_policy``, ``cpu_count``), every runtime under ``runs``, and the
end-to-end speed-up over torch when torch ran. ``--profile`` also samples
the worker with py-spy during the capacity phase.
Run ``python bench/pipeline_throughput.py --help``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CRISIS = REPO.parent / "shared" / "data" / "crisislext26" / "stream.jsonl"
RESULTS = REPO / "bench" / "results"

#: Share of the measured capacity the latency phase produces at (the issue's 80 %).
LOAD_SHARE = 0.8
#: Events produced and stored before anything is timed (model, Faust, chdb warm).
WARM_UP = 128
#: Give up a phase after this long without a new row.
STALL_S = 120.0


def load_avg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def quantile(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def event_lines(n_cap: int, n_lat: int) -> tuple[list[bytes], list[bytes], list[bytes]]:
    """Warm-up, capacity and latency events: distinct tweets spread over the file.

    The sample is in the file's ``ts`` order and the phases take consecutive
    stretches of it, so event time only moves forward, as in a live stream.
    """
    with open(CRISIS, encoding="utf-8") as f:
        rows = [json.loads(ln) for ln in f if ln.strip()]
    need = WARM_UP + n_cap + n_lat
    step = max(1, len(rows) // need)
    picked = rows[::step][:need]

    def lines(part: list[dict[str, Any]], prefix: str) -> list[bytes]:
        return [
            json.dumps(
                {"id": f"{prefix}-{i}", "ts": r["ts"], "text": r["text"]}, separators=(",", ":")
            ).encode()
            for i, r in enumerate(part)
        ]

    warm = lines(picked[:WARM_UP], "warm")
    cap = lines(picked[WARM_UP : WARM_UP + n_cap], "cap")
    lat = lines(picked[WARM_UP + n_cap :], "lat")
    return warm, cap, lat


# --- producer process -------------------------------------------------------------


def produce_main(bootstrap: str, src: str, rate: float, times_out: str) -> int:
    """Send every line of ``src`` (paced at ``rate``/s when > 0); write each send time."""
    from kafka import KafkaProducer

    from streamer.kafka.admin import quiet_kafka_logging

    quiet_kafka_logging()
    lines = Path(src).read_bytes().splitlines()
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    sent: list[float] = []
    start = time.perf_counter()
    wall0 = time.time()
    for i, line in enumerate(lines):
        if rate > 0:
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        sent.append(wall0 + (time.perf_counter() - start))
        producer.send("events", key=b"default", value=line)
    producer.flush()
    producer.close()
    Path(times_out).write_text(json.dumps(sent))
    return 0


# --- worker process ---------------------------------------------------------------


class RecordingStore:
    """The pipeline's store, noting when each event's first row was inserted."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.stored: dict[str, float] = {}
        #: First rows stored per id prefix (``cap``, ``lat``...): the controller
        #: polls this, not the ids (a scan of thousands of ids every poll took
        #: half of the event loop's time in a first version of this benchmark).
        self.count: collections.Counter[str] = collections.Counter()

    def insert(self, table: str, rows: list[dict[str, Any]]) -> Any:
        out = self._inner.insert(table, rows)
        if table == "events":
            now = time.time()
            for r in rows:
                eid = str(r["event_id"])
                if eid not in self.stored:
                    self.stored[eid] = now
                    self.count[eid.split("-", 1)[0]] += 1
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def bare_model(settings: Any, texts: list[str], micro: int) -> tuple[float, str, str]:
    """Docs/s of the embedder alone, as the embed stage builds and calls it."""
    from workers.embedding import Embedder

    emb = Embedder(
        model=settings.model,
        device=settings.device,
        batch_size=settings.encode_batch,
        runtime=settings.runtime,
        threads=settings.embed_threads,
        token_budget=settings.token_budget,
    )
    emb.encode(texts[:micro])  # warm
    started = time.perf_counter()
    for i in range(0, len(texts), micro):
        emb.encode(texts[i : i + micro])
    rate = len(texts) / (time.perf_counter() - started)
    return rate, emb.describe(), emb.policy.describe()


async def phase(
    p: Any, store: RecordingStore, lines: list[bytes], rate: float, work: Path, name: str
) -> tuple[dict[str, float], dict[str, float]]:
    """Produce ``lines`` from a separate process; wait until every event has a row."""
    src = work / f"{name}.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    times = work / f"{name}-sent.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--produce",
        p.settings.broker.bootstrap_servers,
        str(src),
        str(rate),
        str(times),
        cwd=str(REPO),
    )
    ids = [json.loads(ln)["id"] for ln in lines]
    prefix = ids[0].split("-", 1)[0]
    last_count, last_change = -1, time.monotonic()
    while True:
        done = store.count[prefix]
        if done >= len(ids) and proc.returncode is not None:
            break
        if done != last_count:
            last_count, last_change = done, time.monotonic()
        elif time.monotonic() - last_change > STALL_S:
            raise RuntimeError(f"{name}: stalled at {done}/{len(ids)} rows")
        if proc.returncode is not None:
            await asyncio.sleep(0.1)  # produced; waiting for the last rows
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), timeout=0.1)
    if proc.returncode != 0:
        raise RuntimeError(f"{name}: producer exited {proc.returncode}")
    sent = dict(zip(ids, json.loads(times.read_text()), strict=True))
    return sent, {i: store.stored[i] for i in ids}


def worker_main(args: argparse.Namespace) -> int:
    """One runtime: bare model, then the pipeline's capacity and latency phases."""
    from streamer.config import Settings
    from streamer.kafka.broker import free_port
    from streamer.pipeline.launch import pipeline_context
    from streamer.pipeline.worker import run_pipeline
    from workers.embedding import resolve_device

    work = Path(tempfile.mkdtemp(prefix="pipeline-bench-"))
    warm, cap, lat_pool = event_lines(args.events, args.latency_max_events)
    texts = [json.loads(ln)["text"] for ln in cap]
    device = resolve_device(args.device)
    settings = Settings(
        data_dir=work / "data",
        device=device,
        runtime=args.runtime,
        embed_threads=args.threads,
        web_port=free_port(),
        log_level="error",
    )
    if args.windows:
        e, t, k = (float(x) for x in args.windows.split(","))
        settings = replace(settings, embed_within=e, track_within=t, sink_within=k)
    micro = settings.embed_batch or (1024 if device.startswith("cuda") else 64)
    result: dict[str, Any] = {"load_avg_start": load_avg()}
    bare_rates = []
    bare_rate, described, policy = bare_model(settings, texts, micro)
    bare_rates.append(bare_rate)
    result["load_avg_bare"] = load_avg()

    async def controller(p: Any, stop: Any) -> None:
        store = RecordingStore(p.store)
        p.store = store
        try:
            await phase(p, store, warm, 0, work, "warm")
            prof = None
            if args.profile:
                spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which(
                    "py-spy"
                )
                if spy is None:
                    raise RuntimeError("--profile needs py-spy: pip install py-spy")
                prof = subprocess.Popen(
                    [
                        spy,
                        "record",
                        "--pid",
                        str(os.getpid()),
                        "--subprocesses",
                        "--threads",
                        "--idle",
                        "--format",
                        "raw",
                        "--rate",
                        "50",
                        "--output",
                        str(Path(args.profile) / f"profile-{args.runtime}.txt"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            cpu0 = os.times()
            sent, stored = await phase(p, store, cap, 0, work, "capacity")
            cpu1 = os.times()
            if prof is not None:
                prof.send_signal(2)
                prof.wait(timeout=30)
            busy = max(stored.values()) - min(sent.values())
            cap_rate = len(cap) / busy
            result.update(
                end_to_end_events_per_s=cap_rate,
                capacity_seconds=busy,
                worker_cpu_s=(cpu1.user - cpu0.user) + (cpu1.system - cpu0.system),
                load_avg_capacity=load_avg(),
            )
            rate = LOAD_SHARE * cap_rate
            n_lat = min(len(lat_pool), max(200, int(rate * args.latency_seconds)))
            sent, stored = await phase(p, store, lat_pool[:n_lat], rate, work, "latency")
            order = sorted(sent, key=sent.get)
            lat = [stored[i] - sent[i] for i in order]
            tenth = max(1, len(lat) // 10)
            result.update(
                # Median latency of each tenth of the phase, in send order: flat
                # means the pipeline kept up, rising means it fell behind.
                latency_p50_by_tenth_s=[
                    round(statistics.median(lat[k : k + tenth]), 3)
                    for k in range(0, len(lat), tenth)
                ],
                latency_phase_events_per_s=len(lat) / (max(stored.values()) - min(sent.values())),
            )
            result.update(
                latency_events=n_lat,
                latency_rate_events_per_s=rate,
                latency_p50_s=quantile(lat, 0.50),
                latency_p95_s=quantile(lat, 0.95),
                latency_p99_s=quantile(lat, 0.99),
                latency_max_s=max(lat),
                load_avg_latency=load_avg(),
                counters=dict(p.runtime.counters),
            )
        finally:
            stop()

    try:
        with pipeline_context(settings) as p:
            code = run_pipeline(p, controller)
        # The bare model again after the pipeline: the ratio uses the mean of the two.
        bare_rates.append(bare_model(settings, texts, micro)[0])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if code != 0 or "latency_p99_s" not in result:
        print(f"worker exited {code}: {result}", file=sys.stderr)
        return 1
    bare = statistics.mean(bare_rates)
    result.update(
        runtime=described.split(" ")[0],
        device=device,
        embedder=described,
        batch_policy=f"take({micro}, within={settings.embed_within}s); {policy}",
        windows_s={
            "embed": settings.embed_within,
            "track": settings.track_within,
            "sink": settings.sink_within,
        },
        cpu_count=os.cpu_count(),
        events=len(cap),
        bare_model_docs_per_s=bare,
        bare_model_runs=bare_rates,
        ratio=result["end_to_end_events_per_s"] / bare,
    )
    Path(args.out).write_text(json.dumps(result, indent=2))
    return 0


# --- parent ----------------------------------------------------------------------


def print_table(runs: list[dict[str, Any]]) -> None:
    print(
        f"{'runtime':<10}{'bare docs/s':>12}{'e2e ev/s':>10}{'ratio':>7}{'at ev/s':>9}"
        f"{'p50 s':>7}{'p95 s':>7}{'p99 s':>7}  load avg (bare / capacity / latency)"
    )
    for r in runs:
        print(
            f"{r['runtime']:<10}{r['bare_model_docs_per_s']:>12,.0f}"
            f"{r['end_to_end_events_per_s']:>10,.0f}{r['ratio']:>7.2f}"
            f"{r['latency_rate_events_per_s']:>9,.0f}{r['latency_p50_s']:>7.2f}"
            f"{r['latency_p95_s']:>7.2f}{r['latency_p99_s']:>7.2f}  "
            f"{r['load_avg_bare'][0]} / {r['load_avg_capacity'][0]} / {r['load_avg_latency'][0]}"
        )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--produce"]:
        return produce_main(argv[1], argv[2], float(argv[3]), argv[4])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runtimes", default="torch,onnx-int8", help="comma-separated, run in order")
    ap.add_argument("--events", type=int, default=2000, help="tweets in the capacity phase")
    ap.add_argument("--latency-seconds", type=float, default=20.0, help="length of phase 3")
    ap.add_argument("--latency-max-events", type=int, default=6000)
    ap.add_argument("--threads", type=int, default=0, help="--embed-threads (0: default)")
    ap.add_argument("--device", default="auto")
    ap.add_argument(
        "--windows",
        default="",
        metavar="E,T,S",
        help="take() windows of embed, track and sink in seconds (default: Settings')",
    )
    ap.add_argument("--repeats", type=int, default=1, help="rounds over --runtimes")
    ap.add_argument("--profile", default=None, metavar="DIR", help="py-spy raw profiles here")
    ap.add_argument("--json", default=str(RESULTS / "pipeline_throughput.json"))
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--runtime", default="auto", help=argparse.SUPPRESS)
    ap.add_argument("--out", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if not CRISIS.exists():
        print(f"no CrisisLexT26 stream at {CRISIS}", file=sys.stderr)
        return 2
    if args.child:
        return worker_main(args)
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    runtimes = [r.strip() for r in args.runtimes.split(",") if r.strip()]
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.repeats):
            for runtime in runtimes:
                out = Path(tmp) / f"{runtime}-{rep}.json"
                cmd = [sys.executable, __file__, "--child", "--runtime", runtime, "--out", str(out)]
                cmd += ["--events", str(args.events), "--threads", str(args.threads)]
                cmd += ["--latency-seconds", str(args.latency_seconds)]
                cmd += ["--latency-max-events", str(args.latency_max_events)]
                cmd += ["--device", args.device]
                if args.windows:
                    cmd += ["--windows", args.windows]
                if args.profile:
                    cmd += ["--profile", args.profile]
                print(f"running {runtime} (round {rep + 1}) ...", file=sys.stderr)
                res = subprocess.run(cmd, cwd=REPO)
                if res.returncode != 0:
                    print(f"{runtime}: the run failed", file=sys.stderr)
                    return 1
                run = json.loads(out.read_text())
                run["round"] = rep + 1
                runs.append(run)
    print_table(runs)
    result: dict[str, Any] = dict(runs[0])
    result["runs"] = runs
    by = {}
    for r in runs:
        by.setdefault(r["runtime"], []).append(r["end_to_end_events_per_s"])
    if "torch" in by:
        result["end_to_end_vs_torch"] = {
            rt: statistics.mean(v) / statistics.mean(by["torch"]) for rt, v in by.items()
        }
        ratios = {k: round(v, 2) for k, v in result["end_to_end_vs_torch"].items()}
        print("end to end vs torch:", ratios)
    out_path = Path(args.json)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
