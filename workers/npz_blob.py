"""State snapshots as bytes: named numpy arrays plus a JSON header, in one ``.npz``.

Shared by the engine and the alert detector so both checkpoints are read
the same way: no pickle for the arrays, and a ``format`` tag checked on load
so a wrong or corrupt file fails with a clear error instead of half-loading.

An engine's snapshot is the sum of its parts' (:class:`Part`): each part
writes and reads its own arrays and JSON, and :func:`pack_parts` /
:func:`load_parts` store them under the part's name.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

_META_KEY = "meta_json"


def pack(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> bytes:
    """Compress ``arrays`` and the JSON-serialisable ``meta`` (which carries ``format``)."""
    out = io.BytesIO()
    header = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez_compressed(out, **arrays, **{_META_KEY: header})
    return out.getvalue()


def unpack(blob: bytes, *formats: str) -> tuple[dict[str, Any], Any]:
    """``(meta, arrays)`` of a :func:`pack` blob whose ``format`` is one of ``formats``.

    Raises ``ValueError`` naming the expected format for anything else.
    """
    want = " or ".join(formats)
    try:
        arrays = np.load(io.BytesIO(blob), allow_pickle=False)
        meta = json.loads(arrays[_META_KEY].tobytes().decode())
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise ValueError(f"not a {want} snapshot: {exc}") from exc
    if meta.get("format") not in formats:
        raise ValueError(f"not a {want} snapshot: {meta.get('format')!r}")
    return meta, arrays


class Part(Protocol):
    """A component that saves and restores its own state."""

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Arrays and JSON-serialisable values that rebuild the component exactly."""
        ...

    def load(self, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
        """Replace the component's state with :meth:`state` output."""
        ...


def pack_parts(meta: dict[str, Any], parts: Mapping[str, Part]) -> bytes:
    """:func:`pack` ``meta`` plus every part: arrays as ``{name}_{key}``, JSON under ``parts``."""
    arrays: dict[str, np.ndarray] = {}
    part_meta: dict[str, Any] = {}
    for name, part in parts.items():
        part_arrays, part_meta[name] = part.state()
        arrays.update({f"{name}_{key}": value for key, value in part_arrays.items()})
    return pack({**meta, "parts": part_meta}, arrays)


def load_parts(
    meta: dict[str, Any], arrays: Mapping[str, np.ndarray], parts: Mapping[str, Part]
) -> None:
    """Load every part from a :func:`pack_parts` blob's ``(meta, arrays)``."""
    for name, part in parts.items():
        prefix = f"{name}_"
        own = {key[len(prefix) :]: arrays[key] for key in arrays if key.startswith(prefix)}
        part.load(own, meta["parts"][name])
