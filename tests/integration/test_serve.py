"""``topictrack serve``: the page and ``/api/v1`` over a chdb directory no worker holds.

The store is filled with known rows; ``topictrack trending`` and ``alerts``
read it first (no worker runs, so they open it themselves), then ``serve``
must answer the same figures, refuse what needs a live engine with 409,
and follow alerts from the store over server-sent events.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

from integration_helpers import REPO, cli, free_port

from streamer.store import open_store
from tests.integration.dashboard_fixtures import fill


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def test_serve_answers_what_the_cli_answers_and_refuses_live_work(tmp_path):
    path = tmp_path / "chdb"
    with open_store(f"chdb:{path}") as store:
        store.migrate()
        fill(store)
        # Created a minute ago: settled, so the store's alert feed passes them.
        store.execute("ALTER TABLE alerts UPDATE created_at = now() - 60 WHERE 1")
    cli_trend = cli("trending", "--store", f"chdb:{path}", "--json", "--window", "5m",
                    "--baseline", "1h", "--min-support", "1")  # fmt: skip
    assert cli_trend.returncode == 0, cli_trend.stderr
    cli_alerts = cli("alerts", "--store", f"chdb:{path}", "--json")
    assert cli_alerts.returncode == 0, cli_alerts.stderr

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamer.cli", "serve", "--store", f"chdb:{path}",
         "--web-port", str(port)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                if get(f"{base}/healthz")["ok"]:
                    break
            assert proc.poll() is None, proc.stdout.read()
            time.sleep(0.3)
        api = get(f"{base}/api/v1/trending?window=5m&baseline=1h&min_support=1")
        mine = json.loads(cli_trend.stdout)["trending"]
        for a, b in zip(api["trending"], mine, strict=True):
            assert (a["topic_id"], a["window_count"], a["score"]) == (
                b["topic_id"], b["window_count"], b["score"]
            )  # fmt: skip
        shown = [json.loads(line)["alert_id"] for line in cli_alerts.stdout.splitlines()]
        alerts = get(f"{base}/api/v1/alerts")
        assert [a["alert_id"] for a in alerts["alerts"]] == shown and alerts["source"] == "store"
        assert alerts["cursor"].startswith("S")
        with urllib.request.urlopen(f"{base}/", timeout=10) as r:
            assert "<title>topictrack</title>" in r.read().decode()
        for path_, body in (("/api/v1/assign", b'{"texts": ["x"]}'), ("/api/v1/events", b"{}")):
            req = urllib.request.Request(base + path_, data=body, method="POST")
            try:
                urllib.request.urlopen(req, timeout=10)
                raise AssertionError(f"{path_} should be refused by serve")
            except urllib.error.HTTPError as exc:
                assert exc.code == 409, exc.read()
        # The live feed follows the store: both alerts, from the start cursor.
        with urllib.request.urlopen(f"{base}/api/v1/alerts/events?after=S0.&timeout=2") as r:
            text = r.read().decode()
        ids = [ln[4:] for ln in text.splitlines() if ln.startswith("id: S1")]
        assert len(ids) == 2 and len(set(ids)) == 2
        # Resume after the first: only the second comes again.
        req = urllib.request.Request(
            f"{base}/api/v1/alerts/events?timeout=2", headers={"Last-Event-ID": ids[0]}
        )
        with urllib.request.urlopen(req) as r:
            again = [ln[4:] for ln in r.read().decode().splitlines() if ln.startswith("id: S1")]
        assert again == [ids[1]]
        assert get(f"{base}/api/v1/health")["store"]["totals"]["dead_letters"] == 4
    finally:
        proc.terminate()
        proc.wait(30)
