"""Helpers for the integration tests (a module, not conftest, so imports are unambiguous)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CRISIS = REPO.parent / "shared" / "data" / "crisislext26" / "stream.jsonl"


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
    from streamer.kafka.broker import free_port as fp

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
            stats = self.get("/api/v1/stats")
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
