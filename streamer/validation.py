"""Validate raw event bytes against ``schemas/event.schema.json`` and normalise them.

Used by the producer (reject before sending) and by the ``embed`` agent
(dead-letter what a producer sent anyway). Pure functions, no Kafka.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator

from schemas import EVENT_SCHEMA_PATH, MAX_DATETIME

DEFAULT_STREAM = "default"

#: Largest event message accepted (bytes). Kafka's default message limit is
#: 1 MB, and every stage carries the text onwards; a bigger message is cut off
#: before it is parsed, so a hostile producer cannot make a worker hold it.
MAX_MESSAGE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Event:
    """A valid event, normalised: ``ts`` is float epoch seconds, ``stream`` is filled in."""

    id: str
    ts: float
    text: str
    stream: str = DEFAULT_STREAM
    user_id: str = ""
    lang: str = ""
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ts": self.ts,
            "text": self.text,
            "stream": self.stream,
            "user_id": self.user_id,
            "lang": self.lang,
            "source": self.source,
            "meta": self.meta,
        }


class InvalidEvent(ValueError):
    """Raised with a short, human-readable reason (it lands in ``dead_letters.reason``)."""


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    schema = json.loads(EVENT_SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def parse_ts(value: Any) -> float:
    """Epoch seconds from a number or an ISO-8601 string (naive strings are UTC)."""
    if isinstance(value, bool):
        raise InvalidEvent("ts: must be epoch seconds or an ISO-8601 string, got a boolean")
    if isinstance(value, (int, float)):
        ts = float(value)
    else:
        s = str(value).strip()
        try:
            ts = float(s)  # a numeric string is tolerated as epoch seconds
        except ValueError:
            try:
                dt = datetime.fromisoformat(s)
            except ValueError:
                raise InvalidEvent(f"ts: not epoch seconds or ISO-8601: {s[:40]!r}") from None
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=UTC)
            ts = dt.timestamp()
    if not math.isfinite(ts) or ts < 0 or ts > MAX_DATETIME:
        raise InvalidEvent(f"ts: {value!r} is outside 1970-01-01..2106-02-07")
    return ts


def _schema_error(obj: Any) -> str | None:
    errors = sorted(_validator().iter_errors(obj), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    e = errors[0]
    where = ".".join(str(p) for p in e.absolute_path) or "event"
    msg = e.message
    if e.validator == "maxLength":
        # jsonschema's message starts with the whole value: cut to 160, it lost the why.
        msg = f"longer than {e.validator_value} characters"
    if len(msg) > 160:
        msg = msg[:157] + "..."
    return f"{where}: {msg}"


def validate_obj(obj: Any) -> Event:
    """Validate a decoded JSON value; return the normalised :class:`Event`."""
    err = _schema_error(obj)
    if err:
        raise InvalidEvent(err)
    return Event(
        id=obj["id"],
        ts=parse_ts(obj["ts"]),
        text=obj["text"],
        stream=obj.get("stream", DEFAULT_STREAM),
        user_id=obj.get("user_id", ""),
        lang=obj.get("lang", ""),
        source=obj.get("source", ""),
        meta=obj.get("meta", {}),
    )


def validate_bytes(raw: bytes | str) -> Event:
    """Decode UTF-8 JSON and validate it; raise :class:`InvalidEvent` with the reason.

    Any input at all ends in an :class:`Event` or an :class:`InvalidEvent`
    (``tests/unit/streamer/test_validation_properties.py`` checks it).
    """
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    if size > MAX_MESSAGE_BYTES:
        raise InvalidEvent(f"message of {size:,} bytes is larger than {MAX_MESSAGE_BYTES:,}")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidEvent(f"not UTF-8: {exc.reason} at byte {exc.start}") from None
    if not raw.strip():
        raise InvalidEvent("empty message")
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidEvent(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise InvalidEvent("not JSON this worker can read: nested too deeply") from None
    try:
        return validate_obj(obj)
    except RecursionError:  # the schema check walks nested values too
        raise InvalidEvent("nested too deeply") from None


def raw_text(raw: bytes | str) -> str:
    """The raw bytes as text for ``dead_letters.raw``: invalid UTF-8 becomes ``\\xNN``."""
    if isinstance(raw, str):
        return raw
    return raw.decode("utf-8", errors="backslashreplace")


#: Reason classes of dead letters, for metrics (bounded label values).
REASON_CLASSES = ("encoding", "json", "empty", "schema", "ts", "embed", "track", "sink", "other")


def reason_class(reason: str) -> str:
    """The class of a dead letter's reason: ``not UTF-8`` -> ``encoding``, a schema
    failure on field ``text`` -> ``schema``, ``embed: ...`` -> ``embed``..."""
    r = reason.strip()
    if r.startswith("not UTF-8"):
        return "encoding"
    if r.startswith("not JSON"):
        return "json"
    if r.startswith("empty message"):
        return "empty"
    if r.startswith("ts:"):
        return "ts"
    head = r.split(":", 1)[0].strip()
    if head in ("embed", "track", "sink"):
        return head
    if ":" in r and head.replace(".", "").replace("_", "").isalnum():
        return "schema"  # "<field>: <jsonschema message>" from validate_obj
    return "other"
