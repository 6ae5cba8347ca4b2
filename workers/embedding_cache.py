"""On-disk cache of document embeddings for evaluation and benchmarks.

Embedding a labeled stream on CPU takes minutes; clustering it takes seconds.
The cache stores the embeddings of a *prefix* of a file, keyed by model,
token budget and the file's content hash, so ``--limit`` runs reuse a longer
cached prefix, and an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from workers.progress import ProgressReport

#: Rows embedded between two saves of the cache: bounds the work lost on Ctrl-C.
SAVE_EVERY = 2048


def default_cache_dir() -> Path:
    """``$TOPICTRACK_CACHE`` or ``~/.cache/topictrack``, with an ``embeddings`` subfolder."""
    root = os.environ.get("TOPICTRACK_CACHE") or Path.home() / ".cache" / "topictrack"
    return Path(root) / "embeddings"


def file_digest(path: str | Path) -> str:
    """Return the SHA-256 of a file's bytes (hex, first 16 characters)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def model_fingerprint(model_name: str) -> str:
    """A short id of the model's *content*, so the cache survives a moved virtualenv.

    A local folder is identified by its ``config.json`` and the names and
    sizes of its files; a hub name stands for itself.
    """
    path = Path(model_name)
    h = hashlib.sha256()
    if path.is_dir():
        config = path / "config.json"
        if config.exists():
            h.update(config.read_bytes())
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(f"{f.relative_to(path)}:{f.stat().st_size};".encode())
        short = path.resolve().name
    else:
        h.update(model_name.encode())
        short = model_name.rstrip("/").split("/")[-1]
    return f"{short}-{h.hexdigest()[:10]}"


def cache_key(model_name: str, max_tokens: int, digest: str, runtime: str = "torch") -> str:
    """File name stem for one (model content, token budget, file content, runtime) combination.

    ``torch`` keeps the stem it had before runtimes existed, so caches made then stay valid.
    """
    suffix = "" if runtime == "torch" else f"-{runtime}"
    return f"{model_fingerprint(model_name)}-t{max_tokens}-{digest}{suffix}"


def cached_embeddings(
    texts: Sequence[str],
    encode: Callable[[Sequence[str]], np.ndarray],
    key: str,
    cache_dir: Path | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Return embeddings for ``texts`` (a prefix of the keyed file), computing what is missing.

    Parameters
    ----------
    texts:
        The first ``len(texts)`` documents of the file the key was made from.
    encode:
        Function from a list of texts to a float32 matrix (e.g. ``Embedder.encode``).
    key:
        From :func:`cache_key`.
    progress:
        Report progress on stderr (:class:`~workers.progress.ProgressReport`)
        while embedding what is missing.
    """
    cache_dir = cache_dir or default_cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"{key}.npy"
    have = np.load(path) if path.exists() else None
    n = len(texts)
    if have is not None and len(have) >= n:
        return have[:n]
    parts = [have] if have is not None else []
    done = 0 if have is None else len(have)
    first = done
    with ProgressReport("embedding", n - first, enabled=progress) as report:
        while done < n:
            stop = min(n, done + SAVE_EVERY)
            parts.append(encode(list(texts[done:stop])))
            done = stop
            merged = np.concatenate(parts)
            parts = [merged]
            # Write-then-rename so a crash never leaves a truncated cache file.
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, merged)
            os.replace(tmp, path)
            report.update(done - first)
    return parts[0][:n]
