"""Keep a worker process running beside a broker that outlives it (``topictrack run``).

The embedded broker keeps everything in memory, so it must not die with a
worker: ``topictrack run`` starts the broker, then runs the worker as a child
process and restarts it when it dies (a crash, ``kill -9``, running out of
memory). While the broker lives, nothing it holds is lost: the restarted
worker resumes from its checkpoint and Kafka redelivers what was not
committed. Only a crash of this supervisor, and with it the broker, loses the
events that had not yet reached ClickHouse (docs/reliability.md measures that
window).

The worker runs in its own process group and the supervisor passes SIGINT
(Ctrl-C) and SIGTERM on to it once, so it stops gracefully and is not
restarted.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class RestartPolicy:
    """How quickly a dead worker is restarted, and when to give up."""

    #: Seconds before the first restart, doubled per crash in a row up to ``max_delay_s``.
    first_delay_s: float = 1.0
    max_delay_s: float = 30.0
    #: A worker that ran this long counts as healthy again: the delay starts over.
    healthy_after_s: float = 60.0
    #: Crashes in a row (none healthy) after which the supervisor gives up: a
    #: worker that cannot start (a bad option, a locked store) would otherwise
    #: restart forever.
    max_crashes: int = 5


@dataclass
class Supervision:
    """What happened: restarts, and the final exit code."""

    restarts: int = 0
    exit_codes: list[int] = field(default_factory=list)


def _stop_with_parent() -> None:
    """preexec_fn: the worker gets SIGTERM (a graceful stop) if the supervisor dies."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


#: Seconds an orphaned worker may spend stopping before it exits hard. Its SIGTERM
#: (above) starts a graceful stop that can wait for ever on a broker that died
#: with the supervisor (seen: a worker still alive an hour after kill -9 of run).
ORPHAN_GRACE_S = 30.0


def exit_when_orphaned(parent: int, grace_s: float = ORPHAN_GRACE_S) -> threading.Thread:
    """In the supervised worker: a daemon thread that ends the process once its
    supervisor ``parent`` is gone and ``grace_s`` passed (a graceful stop had its
    chance; checkpoints and unacked offsets make the hard exit lose nothing)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        time.sleep(grace_s)
        os._exit(1)

    t = threading.Thread(target=watch, name="orphan-watch", daemon=True)
    t.start()
    return t


def supervise(
    command: Sequence[str],
    policy: RestartPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_start: Callable[[int], None] | None = None,
) -> Supervision:
    """Run ``command`` until it exits cleanly or we are told to stop; restart it when it dies.

    A clean exit (code 0, or any exit after SIGINT/SIGTERM reached us) ends the
    supervision; any other end is a crash. ``on_start(pid)`` is called for each
    worker process started.
    """
    policy = policy or RestartPolicy()
    result = Supervision()
    stopping: list[int] = []
    child: list[subprocess.Popen[bytes]] = []

    def on_signal(signum: int, frame: object) -> None:
        first = not stopping
        stopping.append(signum)
        # Once: a second SIGINT would make Faust abandon its graceful shutdown.
        if first and child and child[0].poll() is None:
            child[0].send_signal(signum)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    crashes = 0
    try:
        while True:
            started = time.monotonic()
            # Its own process group: a terminal's Ctrl-C reaches the supervisor only,
            # which passes it on (see on_signal).
            proc = subprocess.Popen(list(command), preexec_fn=_stop_with_parent, process_group=0)
            child[:] = [proc]
            if on_start is not None:
                on_start(proc.pid)
            code = _wait(proc)
            result.exit_codes.append(code)
            if stopping or code == 0:
                return result
            crashes = 1 if time.monotonic() - started >= policy.healthy_after_s else crashes + 1
            how = f"signal {-code}" if code < 0 else f"exit code {code}"
            if crashes >= policy.max_crashes:
                log.error("worker died (%s) %d times in a row; giving up", how, crashes)
                print(
                    f"topictrack run: the worker died {crashes} times in a row ({how}); "
                    "giving up (see the log above)",
                    file=sys.stderr,
                )
                return result
            delay = min(policy.first_delay_s * 2 ** (crashes - 1), policy.max_delay_s)
            print(
                f"topictrack run: the worker died ({how}); restarting it in {delay:g}s "
                "(the broker and its events live on)",
                file=sys.stderr,
            )
            sleep(delay)
            if stopping:
                return result
            result.restarts += 1
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _wait(proc: subprocess.Popen[bytes]) -> int:
    """The exit code; a wait interrupted by our own signal handler is resumed."""
    while True:
        try:
            return proc.wait()
        except InterruptedError:  # pragma: no cover - PEP 475 retries for us
            continue


def exit_code(s: Supervision) -> int:
    """The supervisor's own exit code: the last worker's, a signal as 128 + n."""
    if not s.exit_codes:
        return 1
    code = s.exit_codes[-1]
    return 128 - code if code < 0 else code
