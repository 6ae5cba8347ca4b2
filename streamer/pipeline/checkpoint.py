"""Track-stage checkpoints: engine snapshots plus the Kafka offsets they cover.

Not a Faust table: tansu's ListOffsets bug makes Faust's changelog recovery
drop the last batch (docs/components.md, "tansu"). There is one checkpoint per
partition of ``embedded`` (the unit Kafka moves between track workers), in a
:class:`CheckpointStore` every track worker reaches: :class:`LocalCheckpoints`
(a folder; one worker, or several on one host) or :class:`StoreCheckpoints`
(a ClickHouse table; workers anywhere). So when a rebalance or a dead worker
moves a partition, its new owner continues the stream keys' topics instead of
starting them from nothing. A checkpoint is, as files in a folder or packed
in one zip:

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
crash at any point leaves the previous checkpoint intact (in ClickHouse, the
row with the highest generation wins).
"""

from __future__ import annotations

import abc
import base64
import hashlib
import io
import json
import logging
import os
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamer.store import Store

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint exists but cannot be used (corrupt or from an incompatible format)."""


@dataclass
class CheckpointState:
    """What a checkpoint holds, decoded."""

    generation: int = 0
    engine: str = ""
    #: The broker epoch the offsets were read in (``Settings.broker_epoch``).
    broker_epoch: str = ""
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
    #: stream -> user interest profiles snapshot bytes (``workers.interests``)
    interests: dict[str, bytes] = field(default_factory=dict)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _files(state: CheckpointState, gen: int) -> tuple[dict[str, Any], dict[str, bytes]]:
    """``(state.json's content, {file name: bytes})`` of generation ``gen``."""
    files: dict[str, bytes] = {}

    def blobs(prefix: str, items: dict[str, bytes]) -> dict[str, dict[str, str]]:
        out = {}
        for i, (stream, blob) in enumerate(sorted(items.items())):
            name = f"{prefix}-{gen}-{i}.bin"
            files[name] = blob
            out[stream] = {"file": name, "sha256": hashlib.sha256(blob).hexdigest()}
        return out

    meta = {
        "format": FORMAT_VERSION,
        "generation": gen,
        "engine": state.engine,
        "broker_epoch": state.broker_epoch,
        "streams": blobs("engine", state.blobs),
        "offsets": state.offsets,
        "pending": state.pending,
        "reclaimable": state.reclaimable,
        "detectors": blobs("alerts", state.detectors),
        "clocks": state.clocks,
        "held": state.held,
        "interests": blobs("interests", state.interests),
    }
    return meta, files


def _state(meta: dict[str, Any], read: Callable[[str], bytes], where: str) -> CheckpointState:
    """Decode ``state.json``'s content; ``read(name)`` returns a blob file's bytes."""
    if meta.get("format") != FORMAT_VERSION:
        raise CheckpointError(f"{where}: format {meta.get('format')!r}, expected {FORMAT_VERSION}")

    def blobs(entries: dict[str, dict[str, str]]) -> dict[str, bytes]:
        out = {}
        for stream, info in entries.items():
            try:
                blob = read(info["file"])
            except (OSError, KeyError) as exc:
                raise CheckpointError(f"{where}: {info['file']}: {exc}") from exc
            if hashlib.sha256(blob).hexdigest() != info["sha256"]:
                raise CheckpointError(f"{where}: {info['file']}: checksum mismatch")
            out[stream] = blob
        return out

    return CheckpointState(
        generation=int(meta.get("generation", 0)),
        engine=str(meta.get("engine", "")),
        broker_epoch=str(meta.get("broker_epoch", "")),
        blobs=blobs(meta.get("streams", {})),
        offsets={k: int(v) for k, v in meta.get("offsets", {}).items()},
        pending={k: list(v) for k, v in meta.get("pending", {}).items()},
        reclaimable={k: list(v) for k, v in meta.get("reclaimable", {}).items()},
        detectors=blobs(meta.get("detectors", {})),
        clocks=dict(meta.get("clocks", {})),
        held={k: list(v) for k, v in meta.get("held", {}).items()},
        interests=blobs(meta.get("interests", {})),
    )


def save(directory: str | os.PathLike[str], state: CheckpointState) -> int:
    """Write a new generation into a folder; return its number. Older files go after."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    gen = state.generation + 1
    meta, files = _files(state, gen)
    for name, blob in files.items():
        _write_atomic(d / name, blob)
    _write_atomic(d / "state.json", json.dumps(meta, ensure_ascii=False).encode("utf-8"))
    for old in (*d.glob("engine-*.bin"), *d.glob("alerts-*.bin")):
        if old.name not in files:
            old.unlink(missing_ok=True)
    state.generation = gen
    return gen


def load(directory: str | os.PathLike[str]) -> CheckpointState | None:
    """The latest checkpoint in a folder, or None when there is none."""
    d = Path(directory)
    path = d / "state.json"
    if not path.exists():
        return None
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: {exc}") from exc
    return _state(meta, lambda name: (d / name).read_bytes(), str(d))


def pack(state: CheckpointState, generation: int) -> bytes:
    """Generation ``generation`` of ``state`` as one zip (the folder's files)."""
    meta, files = _files(state, generation)
    out = io.BytesIO()
    # Snapshots are compressed already (npz): store them as they are.
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for name, blob in files.items():
            z.writestr(name, blob)
        z.writestr("state.json", json.dumps(meta, ensure_ascii=False))
    return out.getvalue()


def unpack(data: bytes, where: str) -> CheckpointState:
    """Inverse of :func:`pack`."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            meta = json.loads(z.read("state.json"))
            return _state(meta, z.read, where)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise CheckpointError(f"{where}: not a checkpoint: {exc}") from exc


class CheckpointStore(abc.ABC):
    """Where the track stage keeps one checkpoint per ``embedded`` partition."""

    #: For logs and errors: a folder or ``clickhouse://...``.
    url: str

    @abc.abstractmethod
    def load(self, partition: int) -> CheckpointState | None:
        """The newest checkpoint of ``partition``, or None."""

    @abc.abstractmethod
    def save(self, partition: int, state: CheckpointState) -> int:
        """Write the next generation of ``partition``; return it (``state.generation`` too)."""

    @abc.abstractmethod
    def partitions(self) -> list[int]:
        """Partitions that have a checkpoint."""


class LocalCheckpoints(CheckpointStore):
    """One folder per partition under ``root`` (``p0/``, ``p1/``...)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.url = str(self.root)

    def load(self, partition: int) -> CheckpointState | None:
        state = load(self.root / f"p{partition}")
        if state is None and partition == 0:
            # Checkpoints written before partitions had their own: one folder, one
            # partition (the default); the next save moves it to p0/.
            state = load(self.root)
        return state

    def partitions(self) -> list[int]:
        found = {
            int(d.name[1:])
            for d in self.root.glob("p*")
            if d.name[1:].isdigit() and (d / "state.json").exists()
        }
        if (self.root / "state.json").exists():
            found.add(0)
        return sorted(found)

    def save(self, partition: int, state: CheckpointState) -> int:
        gen = save(self.root / f"p{partition}", state)
        if partition == 0 and (self.root / "state.json").exists():
            for old in (self.root / "state.json", *self.root.glob("*.bin")):
                old.unlink(missing_ok=True)
        return gen


class StoreCheckpoints(CheckpointStore):
    """Checkpoints as rows of ClickHouse ``track_checkpoints`` (migration 012).

    ``namespace`` is the consumer group, so two pipelines sharing a database
    do not read each other's state.
    """

    def __init__(self, store: Store, namespace: str) -> None:
        self.store = store
        self.namespace = namespace
        self.url = f"{store.url} (track_checkpoints, {namespace})"

    def load(self, partition: int) -> CheckpointState | None:
        rows = self.store.query(
            """
            SELECT generation, state FROM track_checkpoints
            WHERE namespace = %(ns)s AND kafka_partition = %(p)s
            ORDER BY generation DESC LIMIT 1
            """,
            {"ns": self.namespace, "p": int(partition)},
        )
        if not rows:
            return None
        where = f"{self.url} partition {partition} generation {rows[0]['generation']}"
        try:
            data = base64.b64decode(rows[0]["state"], validate=True)
        except ValueError as exc:
            raise CheckpointError(f"{where}: {exc}") from exc
        return unpack(data, where)

    def partitions(self) -> list[int]:
        rows = self.store.query(
            "SELECT DISTINCT kafka_partition AS p FROM track_checkpoints WHERE namespace = %(ns)s",
            {"ns": self.namespace},
        )
        return sorted(int(r["p"]) for r in rows)

    def save(self, partition: int, state: CheckpointState) -> int:
        gen = state.generation + 1
        # Base64: both backends take the row as JSON or native strings, and the
        # zip holds binary snapshots.
        data = base64.b64encode(pack(state, gen)).decode("ascii")
        self.store.insert(
            "track_checkpoints",
            [
                {
                    "namespace": self.namespace,
                    "kafka_partition": int(partition),
                    "generation": gen,
                    "saved_at": time.time(),
                    "state": data,
                }
            ],
        )
        state.generation = gen
        return gen
