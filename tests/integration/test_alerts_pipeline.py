"""End to end with default alert settings: real tansu broker, real model, chdb, real webhook.

A quiet story bursts and a new one appears (``alert_helpers.burst_scenario``).
The worker must publish a ``burst`` and a ``new`` alert to Kafka ``alerts``,
store each exactly once in ClickHouse, POST each to the webhook (after a 500),
and serve them through ``/alerts``, ``topictrack alerts`` and ``trending``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time

from alert_helpers import WebhookReceiver, burst_scenario, jsonl, kafka_alerts
from integration_helpers import REPO, Worker, cli

from streamer.store import open_store


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Follower:
    """``topictrack alerts --follow --json`` in the background, its lines collected."""

    def __init__(self, data) -> None:
        # stderr to a file, not a pipe nobody reads: a full pipe blocks the follower
        # (then even its Ctrl-C exit hangs, flushing).
        self.err = (data.parent / "follower.err").open("w+")
        self.proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "streamer.cli", "alerts", "--follow", "--json"),
                *("--interval", "0.5", "--data-dir", str(data)),
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=self.err,
            text=True,
            # A user's Ctrl-C: a runner that started us in the background (`cmd &`
            # in a script) hands down SIGINT ignored, and Python keeps it so.
            preexec_fn=_default_sigint,
        )
        self.lines: list[dict] = []
        self.stray: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        # Keep draining whatever comes: a reader that died on a stray line would
        # leave the follower blocked on a full pipe.
        for line in self.proc.stdout:
            try:
                self.lines.append(json.loads(line))
            except ValueError:
                self.stray.append(line)

    def wait_for(self, n: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.lines) < n and time.monotonic() < deadline:
            time.sleep(0.2)

    def stop(self) -> tuple[int, str]:
        """Ctrl-C, as a user would: a clean exit."""
        self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.reader.join(5)
            self.err.seek(0)
            err = self.err.read()
            self.err.close()
        return rc, err


def _about(alert: dict, *words: str) -> bool:
    text = " ".join([alert["label"], *alert["keywords"][:5]])
    return any(w in text for w in words)


def test_a_bursting_story_alerts_in_kafka_clickhouse_and_the_webhook(tmp_path):
    from streamer.kafka.producer import produce_lines

    phases, burst = burst_scenario()
    history = [e for phase in phases for e in phase]
    data = tmp_path / "data"

    with (
        WebhookReceiver(fail_first=True) as hook,
        Worker(data, extra=("--alert-webhook", hook.url)) as w,
    ):
        done = 0
        for k, phase in enumerate(phases):  # a day at a time, as it would arrive live
            assert produce_lines(w.broker, jsonl(phase).splitlines()).sent == len(phase)
            done += len(phase)
            w.wait_for(lambda c, n=done: c.get("sink.events", 0) >= n, what=f"history {k} stored")
        assert w.get("/api/v1/stats")["counters"].get("track.alerts", 0) == 0  # quiet: no alert yet
        follower = Follower(data)
        assert produce_lines(w.broker, jsonl(burst).splitlines()).sent == len(burst)
        stats = w.wait_for(
            lambda c: (
                c.get("sink.events", 0) >= len(history) + len(burst)
                and c.get("track.alerts", 0) >= 2
                and c.get("sink.alerts", 0) >= c["track.alerts"]
                and c.get("webhook.sent", 0) >= c["track.alerts"]
            ),
            what="alerts published, stored and delivered",
        )
        c = stats["counters"]
        assert stats["webhook"]["failed"] == 0 and stats["webhook"]["dropped"] == 0
        assert c["webhook.retries"] >= c["track.alerts"]  # every first try got a 500

        # Kafka: one message per alert, each the alert schema's object (checked there).
        in_kafka = kafka_alerts(w.broker)
        ids = [a["alert_id"] for a in in_kafka]
        assert len(ids) == len(set(ids)) == c["track.alerts"]
        bursts = [a for a in in_kafka if a["kind"] == "burst"]
        news = [a for a in in_kafka if a["kind"] == "new"]
        assert len(bursts) == 1 and _about(bursts[0], "strike", "rail", "train", "union")
        assert bursts[0]["score"] >= 6 and bursts[0]["first_seen"] == history[0]["ts"]
        assert any(_about(a, "phone", "nova", "orbit", "pixelon") for a in news)

        # `alerts --follow` printed each new alert once, and stops cleanly on Ctrl-C.
        follower.wait_for(len(ids))
        time.sleep(1.5)  # a few more polls: nothing may be printed twice
        rc, err = follower.stop()
        assert rc == 0 and not follower.stray, (err, follower.stray[:5])
        assert sorted(a["alert_id"] for a in follower.lines) == sorted(ids)

        # The worker holds chdb: the CLI asks its API.
        api = w.get("/api/v1/alerts?since=1h")
        assert api["source"] == "store" and {a["alert_id"] for a in api["alerts"]} == set(ids)
        shown = cli("alerts", "--data-dir", str(data), "--kind", "burst")
        assert shown.returncode == 0, shown.stderr
        assert "burst" in shown.stdout and "from worker pid" in shown.stderr
        trend = cli("trending", "--data-dir", str(data), "--json")
        assert trend.returncode == 0, trend.stderr
        top = json.loads(trend.stdout)["trending"]
        assert top and top[0]["window_count"] >= 5
        broker = w.broker
    assert w.proc.returncode == 0, w.output()
    # The webhook got every alert once (after its 500), and nothing else.
    assert sorted(a["alert_id"] for a in hook.delivered) == sorted(ids)
    assert all(n == 2 for n in hook.attempts.values())

    with open_store(f"chdb:{data / 'chdb'}") as store:
        raw = store.query("SELECT alert_id, count() AS n FROM alerts GROUP BY alert_id")
        assert sorted(r["alert_id"] for r in raw) == sorted(ids)
        assert all(r["n"] == 1 for r in raw)  # exactly once, not even before a merge
        row = store.query(
            "SELECT size, extra, window_end FROM alerts WHERE alert_id = %(a)s",
            {"a": bursts[0]["alert_id"]},
        )[0]
        assert row["size"] == bursts[0]["size"] and row["window_end"] == int(
            bursts[0]["window_end"]
        )
    # No worker now: the CLI reads the store itself.
    shown = cli("alerts", "--data-dir", str(data), "--json")
    assert shown.returncode == 0, shown.stderr
    listed = [json.loads(line) for line in shown.stdout.splitlines()]
    assert [a["alert_id"] for a in listed] == [
        a["alert_id"] for a in sorted(in_kafka, key=lambda a: (a["window_end"], a["created_at"]))
    ]
    assert broker
