from __future__ import annotations

import io
import json

from streamer.kafka.producer import Pacer, ProduceReport, produce_lines, read_lines


class FakeFuture:
    def add_errback(self, fn):
        return self


class FakeProducer:
    def __init__(self):
        self.sent = []
        self.flushed = False

    def send(self, topic, key=None, value=None):
        self.sent.append((topic, key, value))
        return FakeFuture()

    def flush(self):
        self.flushed = True


def line(i, **kw):
    return json.dumps({"id": f"e{i}", "ts": 1000 + i, "text": "t", **kw}).encode()


def test_valid_lines_sent_keyed_by_stream_and_rejects_numbered():
    prod = FakeProducer()
    lines = [line(1), b"", b"{bad", line(2, stream="news"), line(3, text="")]
    report = produce_lines("unused", lines, producer=prod)
    assert [(k, json.loads(v)["id"]) for _, k, v in prod.sent] == [
        (b"default", "e1"),
        (b"news", "e2"),
    ]
    assert [n for n, _ in report.rejected] == [3, 5]
    assert prod.flushed and not report.ok
    summary = report.summary()
    assert "sent 2" in summary and "line 3: not JSON" in summary and "line 5: text" in summary


def test_without_validation_everything_non_blank_is_sent():
    prod = FakeProducer()
    report = produce_lines("unused", [b"{bad", b"  ", b"x"], producer=prod, validate=False)
    assert report.sent == 2 and report.ok


def test_summary_truncates_long_reject_lists():
    r = ProduceReport(sent=0, rejected=[(i, "bad") for i in range(50)])
    assert "and 30 more rejected" in r.summary()


class Clock:
    def __init__(self):
        self.t = 0.0
        self.sleeps = []

    def now(self):
        return self.t

    def sleep(self, s):
        self.sleeps.append(round(s, 6))
        self.t += s


def test_pacer_rate():
    c = Clock()
    p = Pacer(rate=10, clock=c.now, sleep=c.sleep)
    for _ in range(3):
        p.wait(0)
    assert c.sleeps == [0.1, 0.1]


def test_pacer_speedup_follows_event_time():
    c = Clock()
    p = Pacer(speedup=60, clock=c.now, sleep=c.sleep)
    for ts in (1000, 1060, 1060, 1000, 1180):
        p.wait(ts)
    assert c.sleeps == [1.0, 2.0]  # out-of-order events are not delayed
    assert c.t == 3.0


def test_read_lines_strips_endings():
    assert list(read_lines(io.BytesIO(b"a\r\nb\n\nc"))) == [b"a", b"b", b"", b"c"]
