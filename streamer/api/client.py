"""Ask a running worker's HTTP API (found through ``<data-dir>/workers/*.json``).

Paths are the versioned ``/api/v1/...`` routes; a worker started with
``--api-token`` is asked with the token from ``TOPICTRACK_API_TOKEN``.

A running worker holds the chdb directory and nobody else may open it, so the
read commands (``trending``, ``alerts``) ask it first, like ``topics`` does.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from streamer.config import API_TOKEN_ENV
from streamer.discovery import running_workers


def ask_worker(
    data_dirs: list[Path],
    path: str,
    params: dict[str, str],
    agents: tuple[str, ...],
    missing_is_final: bool = False,
) -> tuple[dict[str, Any], str] | None:
    """GET ``path`` from the first live worker running one of ``agents`` (in that
    order of preference) that answers 200; ``(body, description)`` or None.

    A 400 answer means our parameters are wrong: it raises ``ValueError`` with
    the worker's message instead of trying the next worker. With
    ``missing_is_final``, a 404 from a worker that holds the store (runs
    ``sink``) raises ``LookupError``: the store has nothing either, and it is
    that worker's to open (a chdb directory is held by one process).
    """
    workers = [w for d in data_dirs for w in running_workers(d) if w.get("web")]
    ranked = []
    for w in workers:
        have = set(w.get("agents", []))
        ranks = [i for i, a in enumerate(agents) if a in have]
        if ranks:
            ranked.append((min(ranks), w))
    ranked.sort(key=lambda rw: rw[0])
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v not in (None, "")})
    for _, w in ranked:
        url = f"{w['web']}{path}" + (f"?{query}" if query else "")
        req = urllib.request.Request(url)
        token = os.environ.get(API_TOKEN_ENV)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                body = json.load(resp)
        except urllib.error.HTTPError as exc:
            if exc.code == 400:  # our parameters are wrong: say so, do not try elsewhere
                detail = json.loads(exc.read() or b"{}").get("error", str(exc))
                raise ValueError(detail) from None
            if exc.code == 404 and missing_is_final and "sink" in w.get("agents", []):
                raise LookupError(f"worker pid {w.get('pid')} ({w['web']})") from None
            continue
        except (urllib.error.URLError, OSError, ValueError):
            continue
        return body, f"worker pid {w.get('pid')} ({w['web']})"
    return None
