"""``topictrack run`` survives its worker: kill -9 it, the broker lives on, nothing is lost."""

from __future__ import annotations

import json
import os
import signal
import time

from streamer.discovery import running_workers
from streamer.store import open_store
from tests.integration.integration_helpers import Worker, cli


def _worker_pid(data) -> int:
    """The supervised worker's pid (the record with stages; the supervisor's has none)."""
    for info in running_workers(data):
        if info.get("agents"):
            return int(info["pid"])
    raise AssertionError("no worker record")


def test_a_killed_worker_is_restarted_and_loses_nothing(tmp_path, crisis_lines):
    data = tmp_path / "data"
    first, second = crisis_lines[:150], crisis_lines[150:300]
    (tmp_path / "a.jsonl").write_bytes(b"\n".join(first))
    (tmp_path / "b.jsonl").write_bytes(b"\n".join(second))
    with Worker(data) as w:
        assert cli("produce", str(tmp_path / "a.jsonl"), "--data-dir", str(data)).returncode == 0
        w.wait_for(lambda c: c.get("sink.events", 0) >= 50, what="some events stored")
        victim = _worker_pid(data)
        os.kill(victim, signal.SIGKILL)
        # While the worker is down the broker still takes events (produce finds it
        # through the supervisor's record).
        assert cli("produce", str(tmp_path / "b.jsonl"), "--data-dir", str(data)).returncode == 0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            pids = [i["pid"] for i in running_workers(data) if i.get("agents")]
            if pids and pids[0] != victim:
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"no worker came back:\n{w.output()}")
        w.wait_ready()
        # Redelivered and new events drain through the new worker; then it goes idle.
        # Idle means: nothing moved for 15 s (a batch takes seconds on a loaded
        # machine) and no stage holds work the next one has not finished.
        last, since, deadline = None, time.monotonic(), time.monotonic() + 300
        while time.monotonic() < deadline:
            c = w.get("/api/v1/stats")["counters"]
            if c != last:
                last, since = c, time.monotonic()
            drained = (
                c.get("embed.received", 0)
                == c.get("embed.embedded", 0) + c.get("embed.dead_lettered", 0)
                and c.get("sink.events", 0) + c.get("sink.late_events", 0)
                >= c.get("track.assigned", 0) + c.get("track.late_assigned", 0)
                and c.get("embed.received", 0) > 0
            )
            if drained and time.monotonic() - since >= 15:
                break
            time.sleep(1.0)
        else:
            raise AssertionError(f"the new worker did not settle: {last}\n{w.output()}")
    assert w.proc.returncode == 0, w.output()
    assert "the worker died (signal 9); restarting it" in w.output()
    with open_store(f"chdb:{data / 'chdb'}") as store:
        rows = store.query("SELECT event_id FROM events FINAL")
    ids = [r["event_id"] for r in rows]
    expected = {json.loads(line)["id"] for line in first + second}
    assert len(ids) == len(set(ids)) and set(ids) == expected  # each once, none lost
    assert not list((data / "workers").glob("*.json"))
