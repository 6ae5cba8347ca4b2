"""Run a pipeline in this process: Faust worker, runtime file, clean shutdown.

Used by ``topictrack worker``/``run``/``demo``. Returns an exit code instead of
calling ``sys.exit`` (as Faust's worker does) so callers can stop the embedded
broker and print summaries afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import faust

from streamer.config import Settings
from streamer.discovery import write_runtime_file
from streamer.pipeline.context import Pipeline

log = logging.getLogger(__name__)

#: Seconds to wait for the consumer group to hand this worker its partitions.
READY_TIMEOUT = 120.0


def run_pipeline(
    p: Pipeline,
    controller: Callable[[Pipeline, Callable[[], None]], Awaitable[None]] | None = None,
    quiet: bool = True,
) -> int:
    """Run the pipeline's Faust worker until it is stopped; return the exit code.

    ``controller(pipeline, stop)`` (optional) runs as an app task once the
    worker is ready; it may call ``stop()`` to end the run (the demo does).
    SIGINT/SIGTERM stop the worker gracefully (Faust's handlers).
    """
    s = p.settings
    worker = faust.Worker(
        p.app,
        loglevel=s.log_level,
        quiet=quiet,
        redirect_stdouts=False,
        # Faust's console banner and logging setup, at our level.
        override_logging=True,
    )
    worker.spinner = None  # it writes terminal escapes to stdout, even when not a TTY
    runtime_file: list[Path] = []

    stopping: list[asyncio.Future] = []

    def stop() -> None:
        if not stopping:
            stopping.append(asyncio.ensure_future(worker.stop()))

    p.stop = stop

    @p.app.task
    async def _ready() -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        # Ready = partitions assigned and start-up work (the model) done, so the
        # demo's clock and /healthz do not count model loading as processing.
        while not p.app.consumer.assignment() or p.runtime.starting:
            if p.fatal:
                return
            if time.monotonic() > deadline:
                log.error(
                    "not ready after %ss (partitions %s, waiting for %s)",
                    READY_TIMEOUT,
                    sorted(p.app.consumer.assignment()),
                    sorted(p.runtime.starting),
                )
                break
            await asyncio.sleep(0.1)
        p.runtime.ready = True
        runtime_file.append(
            write_runtime_file(
                s.data_dir,
                {
                    "app_id": s.app_id,
                    "agents": sorted(s.agents),
                    "web": f"http://{s.web_host}:{s.web_port}",
                    "broker": s.broker.bootstrap_servers,
                    # Absolute: a read command in another folder must recognise it.
                    "store": _held_store(s) if "sink" in s.agents else "",
                    "started_at": time.time(),
                },
            )
        )
        if controller is not None:
            try:
                await controller(p, stop)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("controller failed")
                p.controller_failed = True
                stop()

    code = 0
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        code = int(exc.code or 0) if not isinstance(exc.code, str) else 1
    finally:
        for f in runtime_file:
            f.unlink(missing_ok=True)
    if p.controller_failed:
        code = code or 1
    if p.fatal:
        print(f"topictrack: {p.fatal}", file=sys.stderr)
        code = code or 1
    # Faust closed its event loop; give later code a fresh one.
    asyncio.set_event_loop(asyncio.new_event_loop())
    return code


def _held_store(s: Settings) -> str:
    """The store this worker holds, as read commands compare it (chdb: absolute path)."""
    spec = s.store_spec
    return f"chdb:{spec.path.resolve()}" if spec.kind == "chdb" else spec.display()
