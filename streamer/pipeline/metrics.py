"""``/metrics``: the worker's state in Prometheus form, read at scrape time.

:class:`PipelineCollector` turns the runtime's counters and the Faust
consumer's positions into metric families when Prometheus asks, so the hot
path only bumps plain counters (``Runtime.bump``); the batch-latency
histogram (``topictrack_batch_seconds``) is the one metric observed directly.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from streamer.pipeline.context import Pipeline

#: Runtime counters behind events in / out per stage.
EVENTS_IN = {"embed": "embed.received", "track": "track.received", "sink": "sink.received"}
EVENTS_OUT = {"embed": "embed.embedded", "track": "track.assigned", "sink": "sink.events"}
WEBHOOK = ("queued", "sent", "retries", "failed", "dropped")


def consumer_lag(p: Pipeline) -> dict[tuple[str, int], int]:
    """Messages not yet read, per assigned partition: the fetch high watermark minus
    the next offset to read (tansu's fetch high watermark is right, docs/components.md)."""
    try:
        consumer = p.app.consumer
        assigned = consumer.assignment()
    except Exception:  # not started yet, or stopping
        return {}
    read = getattr(consumer, "_read_offset", {})
    out = {}
    for tp in assigned:
        try:
            high = consumer.highwater(tp)
        except Exception:
            continue
        if high is None:
            continue
        last = read.get(tp)
        next_offset = int(last) + 1 if last is not None else 0
        out[(tp.topic, tp.partition)] = max(int(high) - next_offset, 0)
    return out


class PipelineCollector(Collector):
    """Metric families from one worker's runtime, consumer and webhook."""

    def __init__(self, p: Pipeline, view: Any) -> None:
        self.p = p
        self.view = view

    def collect(self) -> Iterator[Metric]:
        rt = self.p.runtime
        c = rt.counters
        stages = [s for s in ("embed", "track", "sink") if s in rt.agents]
        ev_in = CounterMetricFamily(
            "topictrack_events_in", "Events (rows for sink) a stage received", labels=["stage"]
        )
        ev_out = CounterMetricFamily(
            "topictrack_events_out",
            "Events a stage passed on (embed: embedded, track: assigned, sink: stored)",
            labels=["stage"],
        )
        for s in stages:
            ev_in.add_metric([s], c[EVENTS_IN[s]])
            ev_out.add_metric([s], c[EVENTS_OUT[s]])
        yield ev_in
        yield ev_out

        dead = CounterMetricFamily(
            "topictrack_dead_letters",
            "Dead letters this worker sent, by stage and reason class",
            labels=["stage", "reason_class"],
        )
        for (stage, cls), n in sorted(rt.dead_letters.items()):
            dead.add_metric([stage, cls], n)
        yield dead

        lag = GaugeMetricFamily(
            "topictrack_consumer_lag",
            "Messages in a partition not yet read by this worker",
            labels=["topic", "partition"],
        )
        for (topic, part), n in sorted(consumer_lag(self.p).items()):
            lag.add_metric([topic, str(part)], n)
        yield lag

        now = time.time()
        et_lag = GaugeMetricFamily(
            "topictrack_event_time_lag_seconds",
            "Wall clock minus the newest event time the stream's engine has seen",
            labels=["stream"],
        )
        live = GaugeMetricFamily(
            "topictrack_live_topics", "Live (not dormant) topics per stream", labels=["stream"]
        )
        for stream, last in sorted(rt.last_ts.items()):
            et_lag.add_metric([stream], now - last)
        for stream, st in sorted(rt.engine_stats.items()):
            live.add_metric([stream], st.get("live_topics", 0.0))
        yield et_lag
        yield live

        alerts = CounterMetricFamily(
            "topictrack_alerts", "Alerts this worker raised, by kind", labels=["kind"]
        )
        for kind in ("new", "development", "burst"):
            alerts.add_metric([kind], c[f"track.alerts.{kind}"])
        yield alerts

        hook = CounterMetricFamily(
            "topictrack_webhook", "Alert webhook deliveries by outcome", labels=["outcome"]
        )
        for name in WEBHOOK:
            hook.add_metric([name], c[f"webhook.{name}"])
        yield hook
        waiting = GaugeMetricFamily("topictrack_webhook_waiting", "Alerts queued for the webhook")
        waiting.add_metric([], self.p.webhook.stats()["waiting"] if self.p.webhook else 0)
        yield waiting

        ready = GaugeMetricFamily("topictrack_ready", "1 once the worker is consuming")
        ready.add_metric([], 1.0 if rt.ready else 0.0)
        yield ready
