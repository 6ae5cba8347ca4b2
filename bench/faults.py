"""Break real processes and count what survives: ``python bench/faults.py [--quick]``.

Every scenario runs a tansu broker as its own process, topictrack workers as
their own processes (separate embed / track / sink workers, or the all-in-one
``topictrack run``), a ClickHouse server started from the local
``clickhouse-server`` binary when there is one (else chdb), and real events
from ``../shared/data/crisislext26/stream.jsonl`` at a steady rate. It then
injects a fault, waits until everything has drained, stops the workers and
counts, in ClickHouse:

- ``stored``: distinct event ids in ``events FINAL``; ``lost``: valid events
  produced but not stored; ``duplicates``: rows users read that disagree with
  distinct ids (``events``, ``alerts``, ``dead_letters`` read with FINAL);
- ``dead_lettered``: rows in ``dead_letters``; for the hostile scenario,
  every bad message must be there;
- ``topics_reborn``: topic ids whose meaning changed across a fault: the
  story (CrisisLexT26 label) most of its posts tell after the fault differs
  from before, and that story had another id before (the tell-tale of a
  tracker restarted from nothing);
- ``alerts_duplicated``: topics announced ``new`` more than once;
- ``recovery_s``: from the fault until stored rows grow again after it ended;
- ``peak_rss_mb``: the largest worker process.

A row passes with 0 lost, 0 duplicates, 0 reborn and 0 duplicated alerts;
the exit status is 1 when any row fails. Scenarios (``--scenarios``):
``kill9`` (kill -9 of each stage's worker, several times), ``kill9-run``
(kill -9 of ``topictrack run``'s worker, which its supervisor restarts),
``clickhouse-down`` (the server stopped for 60 s), ``broker-pause`` (SIGSTOP
of the broker for 30 s), ``rebalance`` (2 embed, 2 track, 1 sink workers,
4 partitions, 6 stream keys; one track worker killed and brought back),
``hostile`` (10,000 bad messages among the valid ones), ``run-crash``
(kill -9 of ``topictrack run`` itself: measures the events its in-memory
broker takes with it, a loss the design accepts) and ``soak`` (30 minutes at
a steady rate of the whole file in event-time order, repeated: RSS flat, lag
not growing, and B-cubed F1 and ``new`` alerts within bounds of an in-process
replay of the same events). The last three are not in ``--quick``. ``--quick`` is the CI run:
kill9, clickhouse-down, rebalance and hostile, shortened (about 5 minutes).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from streamer.kafka.broker import EmbeddedBroker, free_port  # noqa: E402
from streamer.store import open_store  # noqa: E402

CRISIS = REPO.parent / "shared" / "data" / "crisislext26" / "stream.jsonl"
RESULTS = REPO / "bench" / "results"
#: Checkpoints and polls are short: a scenario is a few minutes.
WORKER_ARGS = ("--checkpoint-interval", "2", "--log-level", "warning")


# -- results -------------------------------------------------------------


@dataclass
class Row:
    """One scenario's figures (the table row and the JSON object)."""

    scenario: str
    produced: int = 0
    stored: int = 0
    lost: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    topics_reborn: int = 0
    alerts_duplicated: int = 0
    recovery_s: float = 0.0
    peak_rss_mb: float = 0.0
    seconds: float = 0.0
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    #: What a soak found out of bounds (RSS growth, lag growth, figures), if anything.
    mismatch: str = ""

    #: A scenario that measures a loss the design accepts (``run-crash``).
    loss_expected: bool = False

    @property
    def ok(self) -> bool:
        lost = 0 if self.loss_expected and self.lost >= 0 else self.lost
        return not (
            lost or self.duplicates or self.topics_reborn or self.alerts_duplicated or self.mismatch
        )


COLUMNS = (
    ("scenario", "{}"),
    ("produced", "{:,}"),
    ("stored", "{:,}"),
    ("lost", "{:,}"),
    ("duplicates", "{:,}"),
    ("dead_lettered", "{:,}"),
    ("topics_reborn", "{:,}"),
    ("alerts_duplicated", "{:,}"),
    ("recovery_s", "{:.1f}"),
    ("peak_rss_mb", "{:,.0f}"),
)


def table(rows: list[Row]) -> str:
    cells = [[c for c, _ in COLUMNS] + ["ok"]]
    for r in rows:
        cells.append([fmt.format(getattr(r, c)) for c, fmt in COLUMNS] + ["yes" if r.ok else "NO"])
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    lines = [
        "  ".join(
            v.rjust(w) if i else v.ljust(w)
            for i, (v, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- the ClickHouse server ------------------------------------------------


class ClickHouseServer:
    """A ClickHouse server of our own (loopback, temp dir), so scenarios may stop it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("clickhouse-server") is not None

    def start(self, timeout: float = 60) -> None:
        for d in ("data", "tmp", "user_files", "format_schemas"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        log = open(self.root / "server.log", "ab")  # noqa: SIM115 - the server owns it
        self.proc = subprocess.Popen(
            [
                "clickhouse-server",
                f"--config-file={REPO / '.ci' / 'clickhouse' / 'config.xml'}",
                "--",
                f"--path={self.root / 'data'}/",
                f"--tmp_path={self.root / 'tmp'}/",
                f"--user_files_path={self.root / 'user_files'}/",
                f"--format_schema_path={self.root / 'format_schemas'}/",
                f"--tcp_port={self.port}",
            ],
            cwd=self.root,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.5),
            ):
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"clickhouse-server exited; see {self.root / 'server.log'}")
            time.sleep(0.2)
        raise RuntimeError("clickhouse-server did not start")

    def url(self, database: str) -> str:
        return f"clickhouse://127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


# -- worker processes --------------------------------------------------------


def rss_mb(pid: int) -> float:
    """Resident memory of a process (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def descendants(pid: int) -> list[int]:
    """Child processes of ``pid`` (the supervised worker of ``topictrack run``)."""
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


class Worker:
    """One topictrack process (``worker --agents ...`` or ``run``) with its HTTP API."""

    def __init__(self, name: str, argv: list[str], root: Path, port: int) -> None:
        self.name = name
        self.argv = argv
        self.port = port
        self.log_path = root / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.base: Counter[str] = Counter()  # counters of earlier incarnations
        self.peak_rss = 0.0

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the process owns it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamer.cli", *self.argv],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stats(self) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.port}/api/v1/stats", timeout=2
            ) as r:
                return json.load(r)
        except (OSError, ValueError):
            return None

    def counters(self) -> Counter[str]:
        body = self.stats()
        now = Counter(body.get("counters", {})) if body else Counter()
        return self.base + now

    def wait_ready(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.proc.returncode}:\n{self.tail()}")
            body = self.stats()
            if body is not None and body.get("ready"):
                return
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} not ready in {timeout:.0f}s:\n{self.tail()}")

    def pids(self) -> list[int]:
        if self.proc is None or self.proc.poll() is not None:
            return []
        return [self.proc.pid, *descendants(self.proc.pid)]

    def sample_rss(self) -> None:
        self.peak_rss = max(self.peak_rss, max((rss_mb(p) for p in self.pids()), default=0.0))

    def kill9(self, child: bool = False) -> None:
        """SIGKILL the worker (``child``: the supervised worker under ``topictrack run``)."""
        last = self.stats()
        if last:
            self.base += Counter(last.get("counters", {}))
        assert self.proc is not None
        if child:
            kids = descendants(self.proc.pid)
            assert kids, f"{self.name}: no supervised worker to kill"
            os.kill(kids[0], signal.SIGKILL)
            return
        self.proc.kill()
        self.proc.wait()

    def stop(self, timeout: float = 120) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""


# -- events ------------------------------------------------------------------


def crisis_events(n: int, streams: int = 1) -> list[dict[str, Any]]:
    """``n`` labeled tweets: the file's first ``n`` for one stream; with ``streams`` > 1
    the file's first ``streams`` events (labels), one per stream key, interleaved so
    that every key gets ``n / streams`` tweets in its own time order.

    The file lists each event's tweets together, so its first ``n`` lines hold only
    one or two events: taken as they come they would leave most keys empty.
    """
    if streams == 1:
        return _first_lines(n)
    per_key = -(-n // streams)
    by_label: dict[str, list[dict[str, Any]]] = {}
    for e in _first_lines(None):
        if e["label"] not in by_label and len(by_label) == streams:
            continue
        rows = by_label.setdefault(e["label"], [])
        if len(rows) < per_key:
            rows.append({**e, "stream": f"s{len(by_label) - 1}"})
    lists = [sorted(rows, key=lambda e: e["ts"]) for rows in by_label.values()]
    out = [e for group in itertools.zip_longest(*lists) for e in group if e is not None]
    return out[:n]


def _first_lines(n: int | None) -> list[dict[str, Any]]:
    """The file's first ``n`` tweets (None: all) on the stream key ``default``."""
    if not CRISIS.exists():
        raise SystemExit(f"bench/faults.py: no labeled data at {CRISIS}")
    out: list[dict[str, Any]] = []
    with open(CRISIS, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            e = json.loads(line)
            out.append(
                {
                    "id": str(e["id"]),
                    "ts": e["ts"],
                    "text": e["text"],
                    "label": e["label"],
                    "stream": "default",
                }
            )
            if len(out) == n:
                break
    return out


def bad_messages(n: int, events: list[dict[str, Any]], seed: int = 11) -> list[tuple[bytes, bytes]]:
    """``n`` hostile messages ``(key, value)``: each one validation or the event-time
    policy refuses, but for the duplicate ids (see :func:`is_duplicate`)."""
    rng = random.Random(seed)
    newest = max(e["ts"] for e in events)
    kinds: list[Callable[[int], Any]] = [
        lambda i: rng.randbytes(rng.randint(1, 200)),
        lambda i: b'{"id": "x\xff\xfe", "ts": 1, "text": "bad utf-8 \xc3\x28"}',
        lambda i: {"id": 5, "ts": "soon", "text": ["not", "text"]},
        lambda i: {"ts": 1_370_000_000, "text": "no id"},
        lambda i: {"id": f"bad-{i}", "text": "no ts"},
        lambda i: {"id": f"bad-{i}", "ts": 1_370_000_000, "text": "   "},
        lambda i: (
            b'{"id": "deep", "ts": 1370000000, "text": "x", "meta": '
            + b'{"a":' * 20_000
            + b"1"
            + b"}" * 20_001
        ),
        lambda i: b'{"id": "nan", "ts": NaN, "text": "t"}',
        lambda i: b'{"id": "inf", "ts": Infinity, "text": "t"}',
        lambda i: {"id": f"bad-{i}", "ts": -5, "text": "negative time"},
        lambda i: {
            "id": f"bad-{i}",
            "ts": 4_000_000_000,
            "text": "from 2096: ahead of the wall clock",
        },
        # The same id as a valid event, another text: stored once (the sink dedupes),
        # so this kind is not expected in dead_letters.
        lambda i: {**events[i % len(events)], "text": "the same id, another text"},
        lambda i: {"id": f"bad-{i}", "ts": 1_370_000_000, "text": "t", "user_id": "u" * 300},
        lambda i: {"id": "i" * 600, "ts": 1_370_000_000, "text": "id too long"},
        lambda i: b"[1, 2, 3]",
        lambda i: b"",
    ]
    out = []
    for i in range(n):
        v = kinds[i % len(kinds)](i)
        raw = v if isinstance(v, bytes) else json.dumps(v).encode()
        out.append((b"default", raw))
    # Wrong clocks two years fast, one for every 8 valid events (the measured
    # case had 63 among 500): held, never confirmed, dead-lettered.
    for j in range(len(events) // 8):
        wrong = {"id": f"fast-{j}", "ts": newest + 2 * 365 * 86400 + j, "text": "a clock fast"}
        out[(j * 7919 + 13) % n] = (b"default", json.dumps(wrong).encode())
    # Three 10 MB texts: refused before they are parsed.
    for i in range(3):
        out[i * 997 % n] = (
            b"default",
            json.dumps({"id": f"huge-{i}", "ts": 1, "text": "a" * 10_000_000}).encode(),
        )
    return out


def is_duplicate(raw: bytes) -> bool:
    """A hostile message that is a valid event reusing an id (stored, not dead-lettered)."""
    return b"the same id, another text" in raw[:100_000]


def wire(e: dict[str, Any]) -> tuple[bytes, bytes]:
    return e["stream"].encode(), json.dumps(e).encode()


class Producer:
    """Sends messages at a steady rate from a thread; ``sent`` counts them."""

    def __init__(self, bootstrap: str, messages: list[tuple[bytes, bytes]], rate: float) -> None:
        from kafka import KafkaProducer

        self.producer = KafkaProducer(
            bootstrap_servers=bootstrap, linger_ms=5, max_request_size=16 * 1024 * 1024
        )
        self.messages = messages
        self.rate = rate
        self.sent = 0
        self.failed: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        start = time.monotonic()
        for i, (key, value) in enumerate(self.messages):
            delay = start + i / self.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            fut = self.producer.send("events", key=key, value=value)
            fut.add_errback(lambda exc: self.failed.append(repr(exc)))
            self.sent += 1
        self.producer.flush(120)

    def start(self) -> Producer:
        self.thread.start()
        return self

    def wait_sent(self, k: int, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while self.sent < k and time.monotonic() < deadline:
            time.sleep(0.05)

    def join(self) -> None:
        self.thread.join()
        self.producer.close()


# -- one scenario's processes -------------------------------------------------


class Cluster:
    """A broker, a store and the workers of one scenario."""

    def __init__(
        self, name: str, root: Path, server: ClickHouseServer | None, partitions: int = 1
    ) -> None:
        self.name = name
        self.root = root / name
        self.root.mkdir(parents=True, exist_ok=True)
        self.server = server
        self.partitions = partitions
        self.broker = EmbeddedBroker(log_path=self.root / "tansu.log").start()
        db = "faults_" + name.replace("-", "_")
        self.store_url = server.url(db) if server else f"chdb:{self.root / 'chdb'}"
        self.checkpoints = server.url(db) if server else str(self.root / "checkpoints")
        self.workers: dict[str, Worker] = {}
        self.progress: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._watch_loop, daemon=True)

    @property
    def bootstrap(self) -> str:
        return self.broker.bootstrap_servers

    def add(self, name: str, argv: list[str]) -> Worker:
        port = free_port()
        w = Worker(name, [*argv, "--web-port", str(port)], self.root, port)
        self.workers[name] = w
        return w

    def stage(self, name: str, agents: str, *extra: str) -> Worker:
        """A ``topictrack worker`` for some stages against this cluster's broker and store."""
        return self.add(
            name,
            [
                "worker",
                "--agents",
                agents,
                "--broker",
                f"kafka://{self.bootstrap}",
                "--store",
                self.store_url,
                "--data-dir",
                str(self.root / name),
                "--checkpoints",
                self.checkpoints,
                "--partitions",
                str(self.partitions),
                *WORKER_ARGS,
                *extra,
            ],
        )

    def start_all(self) -> None:
        for w in self.workers.values():
            w.start()
        for w in self.workers.values():
            w.wait_ready()
        self._watch.start()

    def stored(self) -> int:
        """Events stored so far (server: distinct ids; chdb: the sinks' counters)."""
        if self.server is not None:
            with contextlib.suppress(Exception), open_store(self.store_url) as s:
                return int(s.query("SELECT uniqExact(event_id) AS n FROM events")[0]["n"])
            return self.progress[-1][1] if self.progress else 0
        return sum(w.counters()["sink.events"] for w in self.workers.values())

    def wait_stored(self, n: int, timeout: float = 300) -> None:
        """Until ``n`` events are stored (or ``timeout``)."""
        deadline = time.monotonic() + timeout
        while self.stored() < n and time.monotonic() < deadline:
            time.sleep(0.5)

    def _watch_loop(self) -> None:
        while not self._stop.is_set():
            for w in self.workers.values():
                w.sample_rss()
            self.progress.append((time.monotonic(), self.stored()))
            self._stop.wait(0.5)

    def recovered_after(self, t_fault: float, t_lifted: float) -> float:
        """Seconds from the fault until stored rows grew after it was lifted."""
        before = max((n for t, n in self.progress if t <= t_lifted), default=0)
        for t, n in self.progress:
            if t > t_lifted and n > before:
                return t - t_fault
        return float("nan")

    def wait_drained(self, expected: int, quiet_s: float = 8.0, timeout: float = 600) -> None:
        """Until ``expected`` events are stored (server) or nothing moved for ``quiet_s``."""
        deadline = time.monotonic() + timeout
        last, since = None, time.monotonic()
        shown = 0.0
        while time.monotonic() < deadline:
            if time.monotonic() - shown >= 15:
                shown = time.monotonic()
                say(f"{self.name}: {self.stored():,} of {expected:,} events stored")
            snap = (
                self.stored(),
                tuple(
                    sorted(sum((w.counters() for w in self.workers.values()), Counter()).items())
                ),
            )
            if snap != last:
                last, since = snap, time.monotonic()
            if (
                self.server is not None
                and snap[0] >= expected
                and time.monotonic() - since >= quiet_s
            ):
                return
            if time.monotonic() - since >= max(quiet_s, 20.0):
                return
            time.sleep(1.0)
        say(f"{self.name}: not drained in {timeout:.0f}s")

    def stop(self) -> None:
        self._stop.set()
        for w in reversed(list(self.workers.values())):
            w.stop()
        self.broker.stop()

    def peak_rss(self) -> float:
        return max((w.peak_rss for w in self.workers.values()), default=0.0)


# -- counting -----------------------------------------------------------------


def count(cluster: Cluster, valid: list[dict[str, Any]], faults_at: list[int], row: Row) -> Row:
    """Fill ``row`` from the store: stored, lost, duplicates, dead letters, reborn, alerts."""
    with open_store(cluster.store_url) as s:
        ev = s.query("SELECT count() AS n, uniqExact(event_id) AS u FROM events FINAL")[0]
        al = s.query("SELECT count() AS n, uniqExact(alert_id) AS u FROM alerts FINAL")[0]
        dl = s.query(
            "SELECT count() AS n, uniqExact(source_topic, source_partition, source_offset, "
            "stage, raw) AS u FROM dead_letters FINAL"
        )[0]
        news = s.query(
            "SELECT stream, topic_id, uniqExact(alert_id) AS n FROM alerts FINAL "
            "WHERE kind = 'new' GROUP BY stream, topic_id HAVING n > 1"
        )
        rows = s.query("SELECT event_id, stream, topic_id FROM events FINAL")
    ids = {r["event_id"] for r in rows}
    expected = {e["id"] for e in valid}
    row.stored = len(ids & expected)
    row.lost = len(expected - ids)
    row.duplicates = (
        (int(ev["n"]) - int(ev["u"]))
        + (int(al["n"]) - int(al["u"]))
        + (int(dl["n"]) - int(dl["u"]))
    )
    row.dead_lettered = int(dl["n"])
    row.alerts_duplicated = sum(int(r["n"]) - 1 for r in news)
    row.topics_reborn = reborn(rows, valid, faults_at)
    row.peak_rss_mb = cluster.peak_rss()
    row.extra["unexpected_ids"] = len(ids - expected)
    return row


def reborn(rows: list[dict[str, Any]], valid: list[dict[str, Any]], faults_at: list[int]) -> int:
    """Topic ids whose story changed across a fault to one that had another id before it."""
    order = {e["id"]: i for i, e in enumerate(valid)}
    label = {e["id"]: e["label"] for e in valid}
    bad: set[tuple[str, int]] = set()
    for cut in faults_at:
        before: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
        after: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
        for r in rows:
            i = order.get(r["event_id"])
            if i is None or r["topic_id"] < 0:
                continue
            (before if i < cut else after)[(r["stream"], r["topic_id"])][label[r["event_id"]]] += 1
        # stream, story -> the topic id most of that story's posts had before the fault
        home: dict[tuple[str, str], tuple[str, int]] = {}
        best: dict[tuple[str, str], int] = {}
        for key, c in before.items():
            for story, n in c.items():
                if n > best.get((key[0], story), 0):
                    best[(key[0], story)], home[(key[0], story)] = n, key
        for key, c_after in after.items():
            c_before = before.get(key)
            if not c_before or sum(c_before.values()) < 5 or sum(c_after.values()) < 5:
                continue
            was, now = c_before.most_common(1)[0][0], c_after.most_common(1)[0][0]
            if was != now and home.get((key[0], now), key) != key:
                bad.add(key)
    return len(bad)


# -- the scenarios --------------------------------------------------------------


@dataclass
class Plan:
    events: int
    rate: float
    kills: int  # rounds of kills in kill9
    outage_s: float  # ClickHouse down
    pause_s: float  # broker stopped
    bad: int  # hostile messages
    soak_minutes: float


def drain(
    c: Cluster,
    prod: Producer,
    expected: int,
    row: Row,
    recoveries: list[tuple[float, float]],
    timeout: float = 600,
) -> None:
    """Let the producer finish and the pipeline drain; the slowest recovery goes in ``row``."""
    prod.join()
    row.produced = prod.sent
    c.wait_drained(expected, timeout=timeout)
    row.recovery_s = max(c.recovered_after(a, b) for a, b in recoveries)


def kill9(root: Path, server: ClickHouseServer | None, plan: Plan) -> Row:
    c = Cluster("kill9", root, server)
    row = Row("kill9")
    events = crisis_events(plan.events)
    try:
        for stage in ("embed", "track", "sink"):
            c.stage(stage, stage)
        c.start_all()
        prod = Producer(c.bootstrap, [wire(e) for e in events], plan.rate).start()
        faults, recoveries = [], []
        steps = [s for _ in range(plan.kills) for s in ("embed", "track", "sink")]
        for k, stage in enumerate(steps, start=1):
            # Mid-stream: spaced by what is stored, not sent (restarts take a while).
            c.wait_stored(len(events) * k // (len(steps) + 1))
            w = c.workers[stage]
            say(f"kill9: kill -9 {stage} at {prod.sent} sent, {c.stored()} stored")
            t0 = time.monotonic()
            faults.append(prod.sent)
            w.kill9()
            time.sleep(1.0)
            w.start()
            w.wait_ready()
            recoveries.append((t0, time.monotonic()))
        drain(c, prod, len(events), row, recoveries)
    finally:
        c.stop()
    return count(c, events, faults, row)


def kill9_run(root: Path, server: ClickHouseServer | None, plan: Plan) -> Row:
    c = Cluster("kill9-run", root, server)
    row = Row("kill9-run", notes="topictrack run's supervisor restarts its worker")
    events = crisis_events(plan.events)
    try:
        # The supervised all-in-one worker, against this scenario's broker.
        w = c.add(
            "run",
            [
                "run",
                "--no-table",
                "--broker",
                f"kafka://{c.bootstrap}",
                "--store",
                c.store_url,
                "--data-dir",
                str(c.root / "run"),
                *WORKER_ARGS,
            ],
        )
        c.start_all()
        prod = Producer(c.bootstrap, [wire(e) for e in events], plan.rate).start()
        faults, recoveries = [], []
        for k in (1, 2):
            c.wait_stored(len(events) * k // 3)
            say(f"kill9-run: kill -9 the supervised worker at {prod.sent} sent")
            t0 = time.monotonic()
            faults.append(prod.sent)
            w.kill9(child=True)
            time.sleep(2.0)
            w.wait_ready()
            recoveries.append((t0, time.monotonic()))
        drain(c, prod, len(events), row, recoveries)
    finally:
        c.stop()
    return count(c, events, faults, row)


def clickhouse_down(root: Path, server: ClickHouseServer | None, plan: Plan) -> Row:
    row = Row("clickhouse-down")
    if server is None:
        row.notes = "skipped: no clickhouse-server binary (chdb cannot be unavailable)"
        return row
    c = Cluster("clickhouse-down", root, server)
    events = crisis_events(plan.events)
    try:
        c.stage("all", "embed,track,sink", "--checkpoints", str(c.root / "checkpoints"))
        c.start_all()
        prod = Producer(c.bootstrap, [wire(e) for e in events], plan.rate).start()
        prod.wait_sent(len(events) // 4)
        say(f"clickhouse-down: stopping the server for {plan.outage_s:.0f}s at {prod.sent} sent")
        rss_before = c.peak_rss()
        t0 = time.monotonic()
        server.stop()
        time.sleep(plan.outage_s)
        server.start()
        lifted = time.monotonic()
        drain(c, prod, len(events), row, [(t0, lifted)])
        row.extra["rss_before_outage_mb"] = round(rss_before, 1)
        row.extra["sink_retries"] = c.workers["all"].counters()["sink.retries"]
        faults = [len(events) // 4]
    finally:
        c.stop()
    return count(c, events, faults, row)


def broker_pause(root: Path, server: ClickHouseServer | None, plan: Plan) -> Row:
    c = Cluster("broker-pause", root, server)
    row = Row("broker-pause")
    events = crisis_events(plan.events)
    try:
        c.stage("all", "embed,track,sink")
        c.start_all()
        prod = Producer(c.bootstrap, [wire(e) for e in events], plan.rate).start()
        prod.wait_sent(len(events) // 3)
        say(f"broker-pause: SIGSTOP tansu for {plan.pause_s:.0f}s at {prod.sent} sent")
        pid = c.broker.proc.pid if c.broker.proc else 0
        t0 = time.monotonic()
        os.kill(pid, signal.SIGSTOP)
        time.sleep(plan.pause_s)
        os.kill(pid, signal.SIGCONT)
        lifted = time.monotonic()
        drain(c, prod, len(events), row, [(t0, lifted)], timeout=900)
        faults = [len(events) // 3]
    finally:
        c.stop()
    return count(c, events, faults, row)


def rebalance(root: Path, server: ClickHouseServer | None, plan: Plan) -> Row:
    c = Cluster("rebalance", root, server, partitions=4)
    row = Row("rebalance", notes="2 embed, 2 track, 1 sink; 4 partitions, 6 stream keys")
    events = crisis_events(plan.events, streams=6)
    try:
        for name, agents in (
            ("embed-1", "embed"),
            ("embed-2", "embed"),
            ("track-1", "track"),
            ("track-2", "track"),
            ("sink", "sink"),
        ):
            c.stage(name, agents)
        c.start_all()
        prod = Producer(c.bootstrap, [wire(e) for e in events], plan.rate).start()
        prod.wait_sent(len(events) // 3)
        victim = c.workers["track-2"]
        say(f"rebalance: kill -9 track-2 at {prod.sent} sent")
        faults = [prod.sent]
        t0 = time.monotonic()
        victim.kill9()
        # The survivor takes its partitions once the group notices (session timeout)
        # and continues their streams from the shared checkpoints.
        survivor = c.workers["track-1"]
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            body = survivor.stats() or {}
            if len(body.get("streams", {})) >= 6:
                break
            time.sleep(0.5)
        else:
            row.notes += "; the survivor did not take every stream within 90 s"
        row.extra["takeover_s"] = round(time.monotonic() - t0, 1)
        prod.wait_sent(2 * len(events) // 3)
        say(f"rebalance: track-2 back at {prod.sent} sent")
        faults.append(prod.sent)
        victim.start()
        victim.wait_ready()
        lifted = time.monotonic()
        drain(c, prod, len(events), row, [(t0, lifted)])
        row.extra["track_1_assigned"] = c.workers["track-1"].counters()["track.assigned"]
        row.extra["track_2_assigned"] = victim.counters()["track.assigned"]
        # Messages of a partition that had just moved away, left to its new owner.
        row.extra["skipped_unassigned"] = sum(
            c.workers[n].counters()["track.skipped_unassigned"] for n in ("track-1", "track-2")
        )
    finally:
        c.stop()
    return count(c, events, faults, row)


def hostile(root: Path, server: ClickHouseServer | None, plan: Plan) -> Row:
    c = Cluster("hostile", root, server)
    row = Row("hostile", notes=f"{plan.bad:,} bad messages among the valid ones")
    events = crisis_events(plan.events)
    bad = bad_messages(plan.bad, events)
    # Interleave: the bad messages spread evenly before each valid event, so the
    # stream ends with a valid one (a run of nothing but wrong-clock events at
    # the end would confirm their jump: docs/event_time.md, limits).
    messages: list[tuple[bytes, bytes]] = []
    per = len(bad) / max(len(events), 1)
    for i, e in enumerate(events):
        messages.extend(bad[int(i * per) : int((i + 1) * per)])
        messages.append(wire(e))
    try:
        # Held wrong-clock events wait 5 s, not 5 minutes, so the run ends in time.
        c.stage("all", "embed,track,sink", "--event-time-params", '{"hold_wall_s": 5}')
        c.start_all()
        prod = Producer(c.bootstrap, messages, plan.rate * 20).start()
        prod.join()
        row.produced = prod.sent
        time.sleep(8)  # one expiry round of the held events
        c.wait_drained(len(events), quiet_s=12)
        row.extra["producer_failures"] = len(prod.failed)
        row.extra["worker_alive"] = bool(c.workers["all"].pids())
    finally:
        c.stop()
    count(c, events, [], row)
    row.extra["bad_messages"] = len(bad)
    dupes = sum(is_duplicate(v) for _, v in bad)
    row.extra["duplicate_ids_sent"] = dupes
    missing_dl = len(bad) - dupes - len(prod.failed) - row.dead_lettered
    row.extra["bad_not_dead_lettered"] = missing_dl
    # Every bad message the broker accepted must be in dead_letters.
    row.lost += max(missing_dl, 0)
    return row


def soak_events(n: int) -> list[dict[str, Any]]:
    """``n`` events in event-time order: the whole labeled file sorted by ``ts``, then
    again as later passes (ids ``<id>~<pass>``, times shifted past the previous
    pass by 30 days) until there are ``n`` (30 min at 30/s is ~2 passes)."""
    base = sorted(_first_lines(None), key=lambda e: e["ts"])
    span = base[-1]["ts"] - base[0]["ts"] + 30 * 86400
    out: list[dict[str, Any]] = []
    for k in itertools.count():
        for e in base:
            if len(out) == n:
                return out
            if k == 0:
                out.append(e)
            else:
                out.append({**e, "id": f"{e['id']}~{k}", "ts": e["ts"] + k * span})
    return out


def clean_replay(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The same events through the engine and alert detector in this process, as
    ``topictrack eval`` replays them (its default micro-batches), on the eval
    cache's embeddings: the clean run the soak is compared with."""
    from workers.embedding import DEFAULT_MAX_TOKENS, Embedder, default_model_path
    from workers.embedding_cache import cache_key, cached_embeddings, file_digest
    from workers.engines import make_engine
    from workers.evaluation import (
        AlertReplay,
        LabeledStream,
        load_labeled_stream,
        replay,
        score,
        tokenize_stream,
    )
    from workers.onnx_runtime import runtime_tag

    # The workers' runtime on a CPU (--runtime auto): onnx, so the very vectors they saw.
    base = load_labeled_stream(CRISIS)
    tag = runtime_tag("onnx")
    key = cache_key(default_model_path(), DEFAULT_MAX_TOKENS, file_digest(CRISIS), tag)
    model: list[Embedder] = []  # loaded only if the eval cache lacks the file

    def encode(texts: Sequence[str]) -> np.ndarray:
        if not model:
            model.append(Embedder(None, runtime="onnx"))
        return model[0].encode(list(texts))

    cached = cached_embeddings(base.texts_in_file_order(), encode, key)
    vectors = np.ascontiguousarray(cached[base.file_order], dtype=np.float32)
    row_of = {i: k for k, i in enumerate(base.ids)}
    order = [row_of[e["id"].split("~")[0]] for e in events]
    stream = LabeledStream(
        ids=[e["id"] for e in events],
        ts=np.asarray([float(e["ts"]) for e in events]),
        texts=[e["text"] for e in events],
        labels=[e["label"] for e in events],
        file_order=np.arange(len(events)),
    )
    engine = make_engine("topictrack", dim=vectors.shape[1])
    terms = tokenize_stream(stream)
    alerts = AlertReplay(engine, stream)
    run = replay(
        engine, vectors[order], stream, terms, on_batch=alerts, progress=False, batch_span_s=1.0
    )
    figures = score(engine, stream, terms, run)
    return {
        "bcubed_f1": round(figures["bcubed_f1"], 3),
        "ami": round(figures["ami"], 3),
        "topics_ever": figures["topics_ever"],
        "alerts_new": sum(1 for a in alerts.alerts if a.kind == "new"),
        "alerts_total": len(alerts.alerts),
    }


def stored_figures(store_url: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    """The clean-run figures of what the pipeline stored for ``events``."""
    from workers.metrics import bcubed, partition_scores

    with open_store(store_url) as s:
        rows = s.query("SELECT event_id, topic_id FROM events FINAL")
        kinds = s.query("SELECT kind, count() AS n FROM alerts FINAL GROUP BY kind")
        topics = s.query("SELECT uniqExact(topic_id) AS n FROM topics FINAL")[0]["n"]
    topic_of = {r["event_id"]: int(r["topic_id"]) for r in rows}
    pred = np.asarray([topic_of.get(e["id"], -1) for e in events])
    labels = [e["label"] for e in events]
    by_kind = {r["kind"]: int(r["n"]) for r in kinds}
    return {
        "bcubed_f1": round(bcubed(labels, pred)[2], 3),
        "ami": round(partition_scores(labels, pred)["ami"], 3),
        "topics_ever": int(topics),
        "alerts_new": by_kind.get("new", 0),
        "alerts_total": sum(by_kind.values()),
    }


#: How far the soak's figures may sit from the clean replay's. The live worker
#: batches by wall-clock arrival (a few posts per batch at 30/s), the replay by
#: one second of event time, and the engine's births and merges depend a little
#: on where batches cut; a broken or drifting pipeline misses by far more.
SOAK_F1_TOLERANCE = 0.05
SOAK_ALERTS_TOLERANCE = 0.25
#: RSS "flat": the last fifth's mean within 15 % of the first fifth's (the model,
#: the engine's live set and the recent-rows ring fill in the first minutes).
SOAK_RSS_GROWTH = 1.15
#: Lag "does not grow": the last fifth's mean lag (events produced, not yet
#: stored) at most twice the first fifth's plus 60 events (2 s at 30/s), the
#: sink's batching and insert settle time.
SOAK_LAG_SLACK = 60
#: The worker's default --checkpoint-interval (streamer/config.py).
SOAK_CHECKPOINT_S = 10


def soak(root: Path, server: ClickHouseServer | None, plan: Plan) -> Row:
    c = Cluster("soak", root, server)
    n = int(plan.rate * plan.soak_minutes * 60)
    events = soak_events(n)
    row = Row("soak", notes=f"{plan.soak_minutes:.0f} min at {plan.rate:.0f}/s")
    rss: list[tuple[float, float]] = []
    lag: list[tuple[float, int]] = []
    #: The machine's 1-minute load average per sample: on a shared machine a
    #: lag that grows with the load is the neighbours, not the pipeline.
    load: list[tuple[float, float]] = []
    try:
        # The file's last posts of an event can trail it by days, and a stream that
        # falls quiet on them confirms them after hold_wall_s (docs/event_time.md):
        # 30 s instead of 5 min, so the drain below sees them stored.
        # The default checkpoint interval, not the harness's 2 s: a soak measures
        # steady state, and each checkpoint (~8 MB of state here) holds the track
        # stage while ClickHouse takes it (every 2 s, the lag grew after ~20 min).
        c.stage(
            "all",
            "embed,track,sink",
            "--event-time-params",
            json.dumps({"hold_wall_s": 30}),
            "--checkpoint-interval",
            str(SOAK_CHECKPOINT_S),
        )
        c.start_all()
        prod = Producer(c.bootstrap, [wire(e) for e in events], plan.rate).start()
        t0 = time.monotonic()
        while prod.thread.is_alive():
            time.sleep(30)
            w = c.workers["all"]
            rss.append((time.monotonic() - t0, max(rss_mb(p) for p in w.pids())))
            lag.append((time.monotonic() - t0, prod.sent - c.stored()))
            load.append((time.monotonic() - t0, round(os.getloadavg()[0], 2)))
            say(
                f"soak: {rss[-1][0]:.0f}s rss {rss[-1][1]:.0f} MB lag {lag[-1][1]} "
                f"load {load[-1][1]:.1f}"
            )
        prod.join()
        row.produced = prod.sent
        c.wait_drained(len(events), quiet_s=45)
    finally:
        c.stop()
    count(c, events, [], row)
    k = max(1, len(rss) // 5)
    row.extra["rss_first_fifth_mb"] = round(sum(r for _, r in rss[:k]) / k, 1)
    row.extra["rss_last_fifth_mb"] = round(sum(r for _, r in rss[-k:]) / k, 1)
    row.extra["lag_first_fifth"] = round(sum(v for _, v in lag[:k]) / k, 1)
    row.extra["lag_last_fifth"] = round(sum(v for _, v in lag[-k:]) / k, 1)
    row.extra["load_first_fifth"] = round(sum(v for _, v in load[:k]) / k, 2)
    row.extra["load_last_fifth"] = round(sum(v for _, v in load[-k:]) / k, 2)
    row.extra["samples"] = {"rss": rss, "lag": lag, "load": load}
    say("soak: the clean replay of the same events")
    live, clean = stored_figures(c.store_url, events), clean_replay(events)
    row.extra["figures"] = {"soak": live, "clean_replay": clean}
    off = []
    if row.extra["rss_last_fifth_mb"] > SOAK_RSS_GROWTH * row.extra["rss_first_fifth_mb"]:
        off.append("RSS grew")
    if row.extra["lag_last_fifth"] > 2 * row.extra["lag_first_fifth"] + SOAK_LAG_SLACK:
        off.append("lag grew")
    if abs(live["bcubed_f1"] - clean["bcubed_f1"]) > SOAK_F1_TOLERANCE:
        off.append("B-cubed F1 differs from the clean replay")
    if abs(live["alerts_new"] - clean["alerts_new"]) > SOAK_ALERTS_TOLERANCE * max(
        clean["alerts_new"], 4
    ):
        off.append("new alerts differ from the clean replay")
    row.mismatch = ", ".join(off)
    if off:
        row.notes += f"; {row.mismatch}"
    return row


def run_crash(root: Path, server: ClickHouseServer | None, plan: Plan) -> Row:
    """kill -9 of ``topictrack run`` itself: its in-memory broker dies, and with it the
    events not yet in ClickHouse. Measures that window (an accepted loss)."""
    base = root / "run-crash"
    base.mkdir(parents=True, exist_ok=True)
    store = server.url("faults_run_crash") if server else f"chdb:{base / 'chdb'}"
    events = crisis_events(plan.events)
    row = Row("run-crash", loss_expected=True, notes="kill -9 of run (broker in memory)")
    port = free_port()
    w = Worker(
        "run",
        [
            "run",
            "--no-table",
            "--store",
            store,
            "--data-dir",
            str(base / "data"),
            *WORKER_ARGS,
            "--web-port",
            str(port),
        ],
        base,
        port,
    )
    w.start()
    try:
        w.wait_ready()
        bootstrap = next(info["broker"] for info in _records(base / "data") if info.get("broker"))
        prod = Producer(bootstrap, [wire(e) for e in events], plan.rate).start()
        prod.wait_sent(2 * len(events) // 3)
        sent = prod.sent
        w.proc.kill()  # the supervisor; its broker dies with it (PR_SET_PDEATHSIG)
        w.proc.wait()
        time.sleep(5)  # the worker child stops on SIGTERM from its dead parent
        row.produced = sent
    finally:
        w.stop()
        for pid in w.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    with open_store(store) as s:
        ids = {r["event_id"] for r in s.query("SELECT event_id FROM events FINAL")}
    row.stored = len(ids & {e["id"] for e in events[:sent]})
    row.lost = sent - row.stored
    row.extra["window_events"] = row.lost
    row.extra["window_s_at_rate"] = round(row.lost / plan.rate, 1)
    return row


def _records(data_dir: Path) -> list[dict[str, Any]]:
    from streamer.discovery import running_workers

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = running_workers(data_dir)
        if found:
            return found
        time.sleep(0.2)
    raise RuntimeError(f"no runtime record under {data_dir}")


SCENARIOS: dict[str, Callable[[Path, ClickHouseServer | None, Plan], Row]] = {
    "kill9": kill9,
    "kill9-run": kill9_run,
    "clickhouse-down": clickhouse_down,
    "broker-pause": broker_pause,
    "rebalance": rebalance,
    "hostile": hostile,
    "run-crash": run_crash,
    "soak": soak,
}
QUICK = ("kill9", "clickhouse-down", "rebalance", "hostile")
FULL = (
    "kill9",
    "kill9-run",
    "clickhouse-down",
    "broker-pause",
    "rebalance",
    "hostile",
    "run-crash",
    "soak",
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="the CI run: fewer, shorter scenarios")
    ap.add_argument(
        "--scenarios", default="", help=f"comma-separated subset of {', '.join(SCENARIOS)}"
    )
    ap.add_argument("--json", default=str(RESULTS / "faults.json"), help="write the rows here")
    ap.add_argument("--events", type=int, default=0, help="valid events per scenario")
    ap.add_argument("--rate", type=float, default=0, help="events per second")
    ap.add_argument("--soak-minutes", type=float, default=30.0, help="length of the soak")
    ap.add_argument(
        "--chdb", action="store_true", help="use chdb even when clickhouse-server exists"
    )
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder (logs, data)")
    args = ap.parse_args(argv)
    names = [s for s in args.scenarios.split(",") if s] or list(QUICK if args.quick else FULL)
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown:
        ap.error(f"unknown scenario(s) {unknown}; choose from {', '.join(SCENARIOS)}")
    plan = Plan(
        events=args.events or (300 if args.quick else 1500),
        rate=args.rate or (25.0 if args.quick else 30.0),
        kills=1 if args.quick else 2,
        outage_s=15.0 if args.quick else 60.0,
        pause_s=30.0,
        bad=10_000,
        soak_minutes=args.soak_minutes,
    )
    root = Path(tempfile.mkdtemp(prefix="topictrack-faults-"))
    server = None
    if ClickHouseServer.available() and not args.chdb:
        server = ClickHouseServer(root / "clickhouse")
        server.start()
        say(f"ClickHouse server on 127.0.0.1:{server.port}")
    else:
        say("no clickhouse-server: scenarios use chdb")
    rows: list[Row] = []
    try:
        for name in names:
            say(f"scenario {name}")
            started = time.monotonic()
            try:
                row = SCENARIOS[name](root, server, plan)
            except Exception as exc:  # a broken scenario is a failed row, not a crash
                row = Row(name, lost=-1, notes=f"failed: {exc!r}"[:400])
                say(f"{name} failed: {exc!r}")
            row.seconds = round(time.monotonic() - started, 1)
            rows.append(row)
            say(f"{name}: {'ok' if row.ok else 'FAILED'} in {row.seconds:.0f}s {row.notes}")
    finally:
        if server is not None:
            server.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            say(f"kept {root}")
    print(table(rows))
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "quick": args.quick,
                "store": "clickhouse-server" if server else "chdb",
                "plan": asdict(plan),
                "cpu_count": os.cpu_count(),
                "rows": [asdict(r) for r in rows],
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {out}")
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
