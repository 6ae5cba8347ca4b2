"""``POST /api/v1/events``: split a body into events and check each as ``produce`` does.

The body is one JSON event, a JSON array of events, or NDJSON (one event per
line). Every event goes through :func:`streamer.validation.validate_bytes`,
the check ``topictrack produce`` runs, so HTTP and Kafka producers are held to
the same schema. The answer names each rejected event by its line (NDJSON) or
its position (array) with the reason; accepted events are sent to ``events``
keyed by stream, with the bytes the producer wrote.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from streamer.validation import InvalidEvent, validate_bytes

#: Largest request body (bytes): a few thousand tweets; bigger uploads use Kafka.
MAX_BODY_BYTES = 1024 * 1024
#: Most events one request may carry.
MAX_EVENTS = 5000


class BodyError(ValueError):
    """The body as a whole cannot be read (answered 400 or 413)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class IngestBatch:
    """Valid events as ``(stream, raw bytes)``, and the rejected ones with reasons."""

    accepted: list[tuple[str, bytes]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    #: ``{"line": n, "reason": ...}`` (NDJSON) or ``{"index": i, ...}`` (array, 0-based)
    rejected: list[dict[str, Any]] = field(default_factory=list)


def _check(batch: IngestBatch, raw: bytes, where: dict[str, Any]) -> None:
    try:
        ev = validate_bytes(raw)
    except InvalidEvent as exc:
        batch.rejected.append({**where, "reason": str(exc)})
        return
    batch.accepted.append((ev.stream, raw))
    batch.ids.append(ev.id)


def split_body(body: bytes) -> IngestBatch:
    """Parse and validate a request body (see the module docstring)."""
    if len(body) > MAX_BODY_BYTES:
        raise BodyError(f"body larger than {MAX_BODY_BYTES} bytes", status=413)
    if not body.strip():
        raise BodyError("empty body: send a JSON event, a JSON array of events, or NDJSON")
    batch = IngestBatch()
    stripped = body.lstrip()
    whole: Any = None
    if stripped[:1] in (b"[", b"{"):
        try:
            whole = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            whole = None  # not one JSON value: read it as NDJSON below
    if isinstance(whole, list):
        if len(whole) > MAX_EVENTS:
            raise BodyError(f"more than {MAX_EVENTS} events in one request", status=413)
        for i, item in enumerate(whole):
            raw = json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            _check(batch, raw, {"index": i})
        return batch
    if isinstance(whole, dict):
        _check(batch, body.strip(), {"index": 0})
        return batch
    lines = body.split(b"\n")
    if sum(1 for ln in lines if ln.strip()) > MAX_EVENTS:
        raise BodyError(f"more than {MAX_EVENTS} events in one request", status=413)
    for n, line in enumerate(lines, start=1):
        line = line.rstrip(b"\r")
        if line.strip():
            _check(batch, line, {"line": n})
    return batch
