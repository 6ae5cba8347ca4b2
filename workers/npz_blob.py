"""State snapshots as bytes: named numpy arrays plus a JSON header, in one ``.npz``.

Shared by the engine and the alert detector so both checkpoints are read
the same way: no pickle for the arrays, and a ``format`` tag checked on load
so a wrong or corrupt file fails with a clear error instead of half-loading.
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np

_META_KEY = "meta_json"


def pack(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> bytes:
    """Compress ``arrays`` and the JSON-serialisable ``meta`` (which carries ``format``)."""
    out = io.BytesIO()
    header = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez_compressed(out, **arrays, **{_META_KEY: header})
    return out.getvalue()


def unpack(blob: bytes, fmt: str) -> tuple[dict[str, Any], Any]:
    """``(meta, arrays)`` of a :func:`pack` blob whose ``format`` is ``fmt``.

    Raises ``ValueError`` naming the expected format for anything else.
    """
    try:
        arrays = np.load(io.BytesIO(blob), allow_pickle=False)
        meta = json.loads(arrays[_META_KEY].tobytes().decode())
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"not a {fmt} snapshot: {exc}") from exc
    if meta.get("format") != fmt:
        raise ValueError(f"not a {fmt} snapshot: {meta.get('format')!r}")
    return meta, arrays
