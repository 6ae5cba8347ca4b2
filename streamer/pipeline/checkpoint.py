"""Track-stage checkpoints on disk: engine snapshots plus the Kafka offsets they cover.

Not a Faust table: tansu's ListOffsets bug makes Faust's changelog recovery
drop the last batch (docs/components.md, "tansu"). A checkpoint is a directory:

- ``engine-<generation>-<n>.bin``: one engine snapshot per stream;
- ``alerts-<generation>-<n>.bin``: the stream's alert detector (its alerted
  topics, cooldowns and burst counts), taken at the same point as the engine,
  so a restart neither repeats nor loses an alert;
- ``state.json``: generation, the snapshot file and SHA-256 per stream, the
  highest input offset per ``topic:partition`` covered, and the rows of
  documents still waiting in an engine's outlier buffer or recently assigned
  (a late assignment, from a birth or a take-back, needs the event's columns),
  and each stream's event-time clock with the events it holds (docs/event_time.md).

Snapshots are written first, ``state.json`` last through write-and-rename, so a
crash at any point leaves the previous checkpoint intact.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint exists but cannot be used (corrupt or from an incompatible format)."""


@dataclass
class CheckpointState:
    """What a checkpoint holds, decoded."""

    generation: int = 0
    engine: str = ""
    #: stream -> engine snapshot bytes
    blobs: dict[str, bytes] = field(default_factory=dict)
    #: "topic:partition" -> highest offset covered
    offsets: dict[str, int] = field(default_factory=dict)
    #: stream -> rows of documents still waiting for a topic
    pending: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: stream -> rows of recently assigned documents a newborn topic may take back
    reclaimable: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: stream -> alert detector snapshot bytes (absent in checkpoints made before alerts)
    detectors: dict[str, bytes] = field(default_factory=dict)
    #: stream -> its event-time clock (``EventClock.state()``; absent in older checkpoints)
    clocks: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: stream -> events held by the event-time policy, with their vectors
    held: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save(directory: str | os.PathLike[str], state: CheckpointState) -> int:
    """Write a new generation; return its number. Older snapshot files are removed after."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    gen = state.generation + 1
    streams = _write_blobs(d, "engine", gen, state.blobs)
    detectors = _write_blobs(d, "alerts", gen, state.detectors)
    meta = {
        "format": FORMAT_VERSION,
        "generation": gen,
        "engine": state.engine,
        "streams": streams,
        "offsets": state.offsets,
        "pending": state.pending,
        "reclaimable": state.reclaimable,
        "detectors": detectors,
        "clocks": state.clocks,
        "held": state.held,
    }
    _write_atomic(d / "state.json", json.dumps(meta, ensure_ascii=False).encode("utf-8"))
    keep = {v["file"] for v in (*streams.values(), *detectors.values())}
    for old in (*d.glob("engine-*.bin"), *d.glob("alerts-*.bin")):
        if old.name not in keep:
            old.unlink(missing_ok=True)
    state.generation = gen
    return gen


def _write_blobs(d: Path, prefix: str, gen: int, blobs: dict[str, bytes]) -> dict[str, dict]:
    """Write one file per stream; return ``{stream: {"file", "sha256"}}``."""
    out = {}
    for i, (stream, blob) in enumerate(sorted(blobs.items())):
        name = f"{prefix}-{gen}-{i}.bin"
        _write_atomic(d / name, blob)
        out[stream] = {"file": name, "sha256": hashlib.sha256(blob).hexdigest()}
    return out


def _read_blobs(d: Path, entries: dict[str, dict]) -> dict[str, bytes]:
    blobs = {}
    for stream, info in entries.items():
        blob = (d / info["file"]).read_bytes()
        if hashlib.sha256(blob).hexdigest() != info["sha256"]:
            raise CheckpointError(f"{d / info['file']}: checksum mismatch")
        blobs[stream] = blob
    return blobs


def load(directory: str | os.PathLike[str]) -> CheckpointState | None:
    """The latest checkpoint in ``directory``, or None when there is none."""
    d = Path(directory)
    path = d / "state.json"
    if not path.exists():
        return None
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: {exc}") from exc
    if meta.get("format") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: format {meta.get('format')!r}, expected {FORMAT_VERSION}")
    blobs = _read_blobs(d, meta.get("streams", {}))
    detectors = _read_blobs(d, meta.get("detectors", {}))
    return CheckpointState(
        generation=int(meta.get("generation", 0)),
        engine=str(meta.get("engine", "")),
        blobs=blobs,
        offsets={k: int(v) for k, v in meta.get("offsets", {}).items()},
        pending={k: list(v) for k, v in meta.get("pending", {}).items()},
        reclaimable={k: list(v) for k, v in meta.get("reclaimable", {}).items()},
        detectors=detectors,
        clocks=dict(meta.get("clocks", {})),
        held={k: list(v) for k, v in meta.get("held", {}).items()},
    )
