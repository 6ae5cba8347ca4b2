"""Worker discovery: each running worker records itself under ``<data-dir>/workers/``.

A running worker holds the chdb directory and nobody else may open it, so
``topictrack topics``/``trending``/``alerts`` ask its HTTP API instead, and
``topictrack produce`` finds the embedded broker of a ``topictrack run``. The
record is a small JSON file (pid, API URL, broker, store, agents); files of
dead processes are removed when read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def runtime_dir(data_dir: str | os.PathLike[str]) -> Path:
    return Path(data_dir) / "workers"


def write_runtime_file(data_dir: str | os.PathLike[str], info: dict[str, Any]) -> Path:
    """Record this worker (pid, API URL, broker, store) under ``<data-dir>/workers/``."""
    d = runtime_dir(data_dir)
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{info.get('app_id', 'topictrack')}-{os.getpid()}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), **info}, indent=2))
    os.replace(tmp, path)
    return path


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_workers(data_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Runtime records of workers whose process is alive (stale files are removed)."""
    out = []
    d = runtime_dir(data_dir)
    if not d.is_dir():
        return out
    for path in sorted(d.glob("*.json")):
        try:
            info = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if pid_alive(int(info.get("pid", -1))):
            out.append(info)
        else:
            path.unlink(missing_ok=True)
    return out
