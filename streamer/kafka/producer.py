"""Validate JSON-lines events and send them to Kafka ``events``, keyed by stream.

:func:`produce_lines` is what ``topictrack produce`` and the demo use: each
line is checked against the event schema first (:mod:`streamer.validation`),
invalid ones are reported with their line number and reason, valid ones are
sent with kafka-python, paced by ``rate`` and/or event time (``speedup``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from kafka import KafkaProducer

from streamer.config import TOPIC_EVENTS, parse_broker_url
from streamer.discovery import running_workers
from streamer.kafka.admin import quiet_kafka_logging
from streamer.validation import InvalidEvent, validate_bytes

#: Rejected lines listed in full in the summary; the rest are counted.
SHOW_REJECTED = 20


@dataclass
class ProduceReport:
    """What a produce run did."""

    sent: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.failed

    def summary(self) -> str:
        rate = self.sent / self.seconds if self.seconds > 0 else 0.0
        out = [
            f"sent {self.sent} event(s) in {self.seconds:.1f}s ({rate:,.0f}/s); "
            f"rejected {len(self.rejected)}; failed {len(self.failed)}"
        ]
        for line_no, reason in self.rejected[:SHOW_REJECTED]:
            out.append(f"  line {line_no}: {reason}")
        if len(self.rejected) > SHOW_REJECTED:
            out.append(f"  ... and {len(self.rejected) - SHOW_REJECTED} more rejected line(s)")
        for err in self.failed[:SHOW_REJECTED]:
            out.append(f"  send failed: {err}")
        return "\n".join(out)


#: Called with the report so far, and ``True`` once at the end.
ProgressHook = Callable[[ProduceReport, bool], None]


class Pacer:
    """Sleeps so that sends respect ``rate`` (events/s) and ``speedup`` (event-time replay)."""

    def __init__(
        self,
        rate: float | None = None,
        speedup: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate if rate and rate > 0 else None
        self.speedup = speedup if speedup and speedup > 0 else None
        self.clock = clock
        self.sleep = sleep
        self._next = None  # earliest wall time of the next send (rate)
        self._origin: tuple[float, float] | None = None  # (event ts, wall time) of the first event

    def wait(self, ts: float) -> None:
        now = self.clock()
        target = now
        if self.speedup:
            if self._origin is None:
                self._origin = (ts, now)
            ts0, w0 = self._origin
            target = max(target, w0 + (ts - ts0) / self.speedup)
        if self.rate:
            if self._next is None:
                self._next = now
            target = max(target, self._next)
            self._next = target + 1.0 / self.rate
        if target > now:
            self.sleep(target - now)


def read_lines(source: str | Path | IO[bytes]) -> Iterator[bytes]:
    """Lines of a file, ``-`` (stdin) or a binary file object, without line endings."""
    if isinstance(source, (str, Path)):
        if str(source) == "-":
            yield from (line.rstrip(b"\r\n") for line in sys.stdin.buffer)
            return
        with open(source, "rb") as f:
            yield from (line.rstrip(b"\r\n") for line in f)
        return
    yield from (line.rstrip(b"\r\n") for line in source)


def produce_lines(
    bootstrap_servers: str,
    lines: Iterable[bytes],
    *,
    topic: str = TOPIC_EVENTS,
    rate: float | None = None,
    speedup: float | None = None,
    validate: bool = True,
    progress: ProgressHook | None = None,
    producer: Any = None,
) -> ProduceReport:
    """Validate and send lines; blank lines are skipped. Returns the report.

    With ``validate=False`` every non-blank line is sent as is, keyed
    ``default`` (the demo uses it to send malformed input on purpose).
    ``progress(report, final)`` is called after each line and once at the end.
    """
    quiet_kafka_logging()
    report = ProduceReport()
    own = producer is None
    if own:
        producer = KafkaProducer(
            bootstrap_servers=bootstrap_servers,
            client_id="topictrack-produce",
            linger_ms=5,  # small batches: much higher throughput than one request per event
        )
    pacer = Pacer(rate, speedup)
    started = time.monotonic()

    def failed(exc: BaseException) -> None:
        report.failed.append(repr(exc))

    try:
        for line_no, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            stream, ts = "default", None
            if validate:
                try:
                    ev = validate_bytes(raw)
                except InvalidEvent as exc:
                    report.rejected.append((line_no, str(exc)))
                    if progress:
                        progress(report, False)
                    continue
                stream, ts = ev.stream, ev.ts
            if ts is not None:
                pacer.wait(ts)
            elif pacer.rate:
                pacer.wait(0.0)
            producer.send(topic, key=stream.encode("utf-8"), value=raw).add_errback(failed)
            report.sent += 1
            if progress:
                progress(report, False)
        producer.flush()
    finally:
        if own:
            producer.close()
    report.seconds = time.monotonic() - started
    if progress:
        progress(report, True)
    return report


def resolve_bootstrap(broker: str | None, data_dir: str | Path) -> str:
    """``--broker`` if given, else the broker of a worker running with this data dir."""
    if broker:
        spec = parse_broker_url(broker)
        if not spec.embedded:
            return spec.bootstrap_servers
    for info in running_workers(data_dir):
        if info.get("broker"):
            return str(info["broker"])
    raise SystemExit(
        "no broker: pass --broker kafka://host:port, or start `topictrack run` "
        f"(with --data-dir {data_dir}) so its embedded broker can be found"
    )
