"""``/metrics``: the runtime's counters and the consumer's positions as Prometheus text."""

from __future__ import annotations

from collections import namedtuple
from types import SimpleNamespace

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from streamer.pipeline.metrics import PipelineCollector
from streamer.pipeline.runtime import Runtime
from streamer.validation import reason_class
from tests.alert_fixtures import make_alert

TP = namedtuple("TP", "topic partition")


class Consumer:
    def __init__(self) -> None:
        self._read_offset: dict = {}

    def assignment(self):
        return {TP("events", 0)}

    def highwater(self, tp):
        return 120


def samples(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_cover_stages_dead_letters_lags_alerts_and_latency():
    rt = Runtime(agents=frozenset({"embed", "track", "sink"}))
    rt.bump("embed.received", 10)
    rt.bump("embed.embedded", 8)
    rt.bump("track.received", 8)
    rt.bump("track.assigned", 7)
    rt.bump("sink.events", 7)
    rt.bump("webhook.sent", 2)
    rt.dead_lettered("validate", "not JSON: Expecting value at line 1 column 1")
    rt.dead_lettered("validate", "text: '' is too short")
    rt.dead_lettered("embed", "embed: RuntimeError('oom')")
    rt.add_alerts([make_alert(1), make_alert(2, "burst"), make_alert(3)])
    rt.last_ts["default"] = 1_000.0
    rt.engine_stats["default"] = {"live_topics": 4.0}
    rt.batch_seconds.labels("embed").observe(0.7)
    consumer = Consumer()
    consumer._read_offset = {next(iter(consumer.assignment())): 99}
    p = SimpleNamespace(runtime=rt, app=SimpleNamespace(consumer=consumer), webhook=None)
    rt.registry.register(PipelineCollector(p, None))  # type: ignore[arg-type]
    got = samples(generate_latest(rt.registry).decode())
    assert got[("topictrack_events_in_total", (("stage", "embed"),))] == 10
    assert got[("topictrack_events_out_total", (("stage", "track"),))] == 7
    assert got[("topictrack_events_out_total", (("stage", "sink"),))] == 7
    dl = "topictrack_dead_letters_total"
    assert got[(dl, (("reason_class", "json"), ("stage", "validate")))] == 1
    assert got[(dl, (("reason_class", "schema"), ("stage", "validate")))] == 1
    assert got[(dl, (("reason_class", "embed"), ("stage", "embed")))] == 1
    assert got[("topictrack_consumer_lag", (("partition", "0"), ("topic", "events")))] == 20
    assert got[("topictrack_event_time_lag_seconds", (("stream", "default"),))] > 1e9
    assert got[("topictrack_live_topics", (("stream", "default"),))] == 4
    assert got[("topictrack_alerts_total", (("kind", "new"),))] == 2
    assert got[("topictrack_alerts_total", (("kind", "burst"),))] == 1
    assert got[("topictrack_webhook_total", (("outcome", "sent"),))] == 2
    assert got[("topictrack_batch_seconds_count", (("stage", "embed"),))] == 1
    assert got[("topictrack_batch_seconds_bucket", (("le", "1.0"), ("stage", "embed")))] == 1
    assert rt.alerts_total == 3


def test_reason_classes_are_few_and_stable():
    assert reason_class("not UTF-8: invalid start byte at byte 0") == "encoding"
    assert reason_class("not JSON: Expecting value at line 1 column 1") == "json"
    assert reason_class("empty message") == "empty"
    assert reason_class("ts: 'last tuesday' is outside 1970-01-01..2106-02-07") == "ts"
    assert reason_class("event: 'text' is a required property") == "schema"
    assert reason_class("sink: events: bad row") == "sink"
    assert reason_class("something odd") == "other"
