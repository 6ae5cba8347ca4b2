"""Helpers for integration tests: real tansu, real chdb / ClickHouse server, real model.

Everything here starts real components; each test cleans up its processes
and checks that no broker it started is left running.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CRISIS = REPO.parent / "shared" / "data" / "crisislext26" / "stream.jsonl"


def pytest_configure(config):
    # kafka-python 3.0.12 loads its protocol schemas with deprecated
    # importlib.resources calls: hundreds of warnings that are not ours.
    for msg in ("read_text is deprecated", "open_text is deprecated"):
        config.addinivalue_line("filterwarnings", f"ignore:{msg}:DeprecationWarning")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def crisis_lines() -> list[bytes]:
    """The first 300 events of the labeled CrisisLexT26 stream (skips when absent)."""
    if not CRISIS.exists():
        pytest.skip(f"labeled data not found at {CRISIS} (the shared data folder is not mounted)")
    out = []
    with open(CRISIS, "rb") as f:
        for line in f:
            if line.strip():
                out.append(line.rstrip(b"\n"))
            if len(out) == 300:
                break
    return out


@pytest.fixture
def clickhouse_url() -> str:
    """A fresh database on the server named by TOPICTRACK_CLICKHOUSE_URL (skips without it)."""
    url = os.environ.get("TOPICTRACK_CLICKHOUSE_URL")
    if not url:
        if os.environ.get("TOPICTRACK_REQUIRE_CLICKHOUSE") == "1":
            pytest.fail("TOPICTRACK_REQUIRE_CLICKHOUSE=1 but TOPICTRACK_CLICKHOUSE_URL is not set")
        pytest.skip(
            "TOPICTRACK_CLICKHOUSE_URL is not set: no ClickHouse server to test against "
            "(.ci/run starts one and sets it)"
        )
    from clickhouse_driver import Client

    from streamer.config import parse_store_url

    spec = parse_store_url(url)
    db = f"{spec.database}_{uuid.uuid4().hex[:8]}"
    yield f"clickhouse://{spec.host}:{spec.port}/{db}"
    client = Client(spec.host, port=spec.port, user=spec.user, password=spec.password)
    client.execute(f"DROP DATABASE IF EXISTS `{db}`")
    client.disconnect()


def cli(*args: str, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    """Run ``topictrack ARGS`` in a subprocess; capture text output."""
    return subprocess.run(
        [sys.executable, "-m", "streamer.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kw,
    )


def tansu_on(bootstrap: str) -> list[str]:
    """Command lines of live tansu processes listening on ``host:port``."""
    out = subprocess.run(["pgrep", "-af", "tansu"], capture_output=True, text=True).stdout
    return [ln for ln in out.splitlines() if f"tcp://{bootstrap} " in ln + " "]


def free_port() -> int:
    from streamer.broker import free_port as fp

    return fp()


class Worker:
    """``topictrack run --no-table`` as a subprocess, with its HTTP API."""

    def __init__(self, data_dir: Path, store: str = "chdb", extra: tuple[str, ...] = ()):
        self.data_dir = data_dir
        self.port = free_port()
        self.log = data_dir / f"worker-{self.port}.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        self._logf = open(self.log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamer.cli",
                "run",
                "--no-table",
                "--data-dir",
                str(data_dir),
                "--store",
                store,
                "--web-port",
                str(self.port),
                "--checkpoint-interval",
                "2",
                *extra,
            ],
            cwd=REPO,
            stdout=self._logf,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.broker = ""

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
            return json.load(r)

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited {self.proc.returncode}:\n{self.output()}")
            with contextlib.suppress(OSError, ValueError):
                if self.get("/healthz").get("ok"):
                    break
            time.sleep(0.3)
        else:
            raise AssertionError(f"worker not ready in {timeout}s:\n{self.output()}")
        files = list((self.data_dir / "workers").glob("*.json"))
        assert files, "the worker did not write its runtime file"
        self.broker = json.loads(files[0].read_text())["broker"]

    def wait_for(self, pred, timeout: float = 240, what: str = "condition") -> dict:
        deadline = time.monotonic() + timeout
        stats = {}
        while time.monotonic() < deadline:
            stats = self.get("/stats")
            if pred(stats["counters"]):
                return stats
            time.sleep(0.5)
        raise AssertionError(f"timed out waiting for {what}; stats {stats}\n{self.output()}")

    def stop(self, timeout: float = 90) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._logf.close()
        return self.proc.returncode

    def output(self) -> str:
        if not self._logf.closed:
            self._logf.flush()
        return self.log.read_text(errors="replace")[-6000:]

    def __enter__(self) -> Worker:
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
