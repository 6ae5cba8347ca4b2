"""Wire formats of the internal Kafka topics (pure functions, unit-tested).

- ``events``: the producer's JSON bytes, unchanged.
- ``embedded``: one message per (micro-batch, stream): the normalised events
  and their vectors as base64 little-endian float32, ``n x dim``.
- ``assignments``, ``topic-updates``: one message per batch,
  ``{"v": 1, "rows": [...]}`` with one row per event / topic, columns as in
  the ClickHouse tables.
- ``alerts``: one message per alert, the JSON object of
  ``schemas/alert.schema.json`` (alerts are few, and any consumer reads them).
- ``dead-letter``: the original bytes as the message value, and the reason,
  stage and source position in Kafka headers, so the bad input travels
  untouched.

Batching rows into messages keeps Kafka overhead per *batch*, not per event:
Faust forwards ~3k messages/s on two cores (docs/components.md), which a GPU
embedder would otherwise hit.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema
import numpy as np

from schemas import ALERT_SCHEMA_PATH
from streamer.validation import raw_text

WIRE_VERSION = 1

#: Upper bound of documents in one ``embedded`` message: 128 x 384 float32 is
#: 196 KiB (262 KiB in base64), well under Kafka's default 1 MB message limit
#: even with long texts.
MAX_DOCS_PER_MESSAGE = 128

#: Upper bound of rows in one ``assignments``/``topic-updates`` message.
MAX_ROWS_PER_MESSAGE = 256


class CodecError(ValueError):
    """A message that does not decode (it is dead-lettered, never retried)."""


def _json_object(raw: bytes, prefix: str = "") -> dict[str, Any]:
    """Parse a message that must be one JSON object; errors start with ``prefix``."""
    try:
        obj = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CodecError(f"{prefix}not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise CodecError(f"{prefix}message is not a JSON object")
    return obj


def _loads(raw: bytes) -> dict[str, Any]:
    obj = _json_object(raw)
    if obj.get("v") != WIRE_VERSION:
        raise CodecError(f"unsupported wire version {obj.get('v')!r}")
    return obj


def encode_vectors(vectors: np.ndarray) -> str:
    """Base64 of a 2-D float32 matrix (row-major, little endian)."""
    return base64.b64encode(np.ascontiguousarray(vectors, dtype="<f4").tobytes()).decode("ascii")


def decode_vectors(data: str, n: int, dim: int) -> np.ndarray:
    """Inverse of :func:`encode_vectors`; checks the size."""
    try:
        buf = base64.b64decode(data, validate=True)
    except (ValueError, TypeError) as exc:
        raise CodecError(f"vectors: bad base64: {exc}") from None
    if len(buf) != n * dim * 4:
        raise CodecError(f"vectors: {len(buf)} bytes for {n} x {dim} float32")
    return np.frombuffer(buf, dtype="<f4").reshape(n, dim).astype(np.float32)


@dataclass
class EmbeddedBatch:
    """Events of one stream with their embeddings, as carried on ``embedded``."""

    stream: str
    events: list[dict[str, Any]]
    vectors: np.ndarray

    def __len__(self) -> int:
        return len(self.events)


def encode_embedded(batch: EmbeddedBatch) -> bytes:
    n, dim = batch.vectors.shape
    if n != len(batch.events):
        raise ValueError(f"{len(batch.events)} events but {n} vectors")
    return json.dumps(
        {
            "v": WIRE_VERSION,
            "stream": batch.stream,
            "n": n,
            "dim": dim,
            "events": batch.events,
            "vectors": encode_vectors(batch.vectors),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")


def decode_embedded(raw: bytes) -> EmbeddedBatch:
    obj = _loads(raw)
    try:
        n, dim = int(obj["n"]), int(obj["dim"])
        events = obj["events"]
        stream = str(obj["stream"])
        vectors = decode_vectors(obj["vectors"], n, dim)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, CodecError):
            raise
        raise CodecError(f"embedded batch: {exc!r}") from None
    if not isinstance(events, list) or len(events) != n:
        raise CodecError(f"embedded batch: {n} vectors but events={type(events).__name__}")
    return EmbeddedBatch(stream=stream, events=events, vectors=vectors)


def split_embedded(batch: EmbeddedBatch, limit: int = MAX_DOCS_PER_MESSAGE) -> list[EmbeddedBatch]:
    """Cut a batch into messages of at most ``limit`` documents."""
    return [
        EmbeddedBatch(batch.stream, batch.events[i : i + limit], batch.vectors[i : i + limit])
        for i in range(0, len(batch), limit)
    ]


def encode_rows(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """One ``{"v": 1, "rows": [...]}`` message."""
    return json.dumps(
        {"v": WIRE_VERSION, "rows": list(rows)}, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")


def encode_row_messages(
    rows: Sequence[Mapping[str, Any]], limit: int = MAX_ROWS_PER_MESSAGE
) -> list[bytes]:
    """Rows cut into messages of at most ``limit`` rows each."""
    return [encode_rows(rows[i : i + limit]) for i in range(0, len(rows), limit)]


def decode_rows(raw: bytes) -> list[dict[str, Any]]:
    obj = _loads(raw)
    rows = obj.get("rows")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise CodecError("rows: expected a list of objects")
    return rows


#: Kafka header names on ``dead-letter`` messages.
DL_REASON = "x-reason"
DL_STAGE = "x-stage"
DL_SOURCE_TOPIC = "x-source-topic"
DL_SOURCE_PARTITION = "x-source-partition"
DL_SOURCE_OFFSET = "x-source-offset"


def dead_letter_headers(
    reason: str, stage: str, topic: str, partition: int, offset: int
) -> list[tuple[str, bytes]]:
    """Headers describing why and where a message was rejected."""
    return [
        (DL_REASON, reason.encode("utf-8")[:4000]),
        (DL_STAGE, stage.encode("utf-8")),
        (DL_SOURCE_TOPIC, topic.encode("utf-8")),
        (DL_SOURCE_PARTITION, str(partition).encode("ascii")),
        (DL_SOURCE_OFFSET, str(offset).encode("ascii")),
    ]


def dead_letter_row(
    value: bytes | None, headers: Mapping[str, bytes] | Sequence[tuple[str, bytes]] | None
) -> dict[str, Any]:
    """The ``dead_letters`` table row for one ``dead-letter`` message."""
    h: dict[str, bytes] = dict(headers.items() if isinstance(headers, Mapping) else headers or [])

    def text(key: str, default: str = "") -> str:
        v = h.get(key)
        return v.decode("utf-8", errors="replace") if v is not None else default

    def number(key: str) -> int:
        try:
            return int(text(key, "-1"))
        except ValueError:
            return -1

    return {
        "reason": text(DL_REASON, "unknown"),
        "stage": text(DL_STAGE, "unknown"),
        "raw": raw_text(value or b""),
        "source_topic": text(DL_SOURCE_TOPIC),
        "source_partition": number(DL_SOURCE_PARTITION),
        "source_offset": number(DL_SOURCE_OFFSET),
    }


# -- alerts: one alert per message, the JSON object of schemas/alert.schema.json --


def encode_alert(alert: Mapping[str, Any]) -> bytes:
    """One ``alerts`` message: the alert itself, as any Kafka consumer expects it."""
    return json.dumps(dict(alert), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(ALERT_SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def decode_alert(raw: bytes) -> dict[str, Any]:
    """Parse and validate one ``alerts`` message against the alert schema."""
    obj = _json_object(raw, "alert: ")
    error = next(iter(_validator().iter_errors(obj)), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "alert"
        raise CodecError(f"alert: {where}: {error.message}")
    return obj
