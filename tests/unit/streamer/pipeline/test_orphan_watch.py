"""A supervised worker whose supervisor died ends by itself (streamer/pipeline/supervisor.py)."""

from __future__ import annotations

import subprocess
import sys
import time

CHILD = """
import time
from streamer.pipeline.supervisor import exit_when_orphaned
exit_when_orphaned({parent}, grace_s=0.2)
time.sleep(30)  # a graceful stop that never ends
"""


def test_an_orphaned_worker_exits_after_its_grace():
    # Parent -1 is never our parent: the worker is "orphaned" from the start.
    done = subprocess.run([sys.executable, "-c", CHILD.format(parent=-1)], timeout=25)
    assert done.returncode == 1  # not the 30 s sleep: the watch ended it


def test_a_worker_with_its_supervisor_keeps_running():
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(parent="__import__('os').getppid()")]
    )
    try:
        time.sleep(3)
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()
