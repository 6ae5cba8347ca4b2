"""Typed, bounded query parameters: one declaration parses requests and documents them.

Each route lists its :class:`Param` specs; :func:`parse` turns a request's
query into typed values (a bad or out-of-range value raises
:class:`BadRequest`, answered 400 with the message) and :meth:`Param.openapi`
writes the same bounds into the OpenAPI document, so the two cannot drift.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from streamer.durations import parse_duration

#: What a stream key may look like: the event schema's 1..200 characters.
MAX_STREAM_LEN = 200
#: Whole-minute durations with units (``15m``, ``1h30m``, ``2d``), as documented.
DURATION_PATTERN = r"^([0-9]{1,6}(\.[0-9]{1,3})?[smhdwSMHDW]){1,6}$"
_DURATION = re.compile(DURATION_PATTERN)


class BadRequest(ValueError):
    """A parameter that does not parse or is out of bounds (answered 400)."""


@dataclass(frozen=True)
class Param:
    """One query parameter: its type, bounds, default and what it means.

    ``kind`` is ``int``, ``str``, ``enum``, ``duration`` (seconds, from
    ``15m``-style text, between ``low`` and ``high`` seconds) or ``ids``
    (comma-separated topic ids, at most ``high`` of them).
    """

    name: str
    kind: str
    description: str
    default: Any = None
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    max_len: int = MAX_STREAM_LEN
    #: Must be given (and not empty).
    required: bool = False

    def parse(self, raw: str | None) -> Any:
        if raw is None or raw == "":
            if self.required:
                raise BadRequest(f"{self.name} is required")
            return self._parse_default()
        if self.kind == "int":
            try:
                value = int(raw)
            except ValueError:
                raise BadRequest(f"{self.name} must be an integer, got {raw[:40]!r}") from None
            self._check_range(value)
            return value
        if self.kind == "str":
            if len(raw) > self.max_len:
                raise BadRequest(f"{self.name} is longer than {self.max_len} characters")
            return raw
        if self.kind == "enum":
            if raw not in self.choices:
                raise BadRequest(f"{self.name} must be one of {', '.join(self.choices)}")
            return raw
        if self.kind == "duration":
            if not _DURATION.match(raw):
                raise BadRequest(
                    f"{self.name}: bad duration {raw[:40]!r}: use a number and a unit, "
                    "e.g. 15m, 1h, 2d"
                )
            try:
                value = parse_duration(raw)
            except ValueError as exc:
                raise BadRequest(f"{self.name}: {exc}") from None
            self._check_range(value)
            return value
        if self.kind == "ids":
            parts = [p.strip() for p in raw.split(",") if p.strip()]
            if len(parts) > (self.high or 0):
                raise BadRequest(f"{self.name}: at most {self.high:g} ids")
            try:
                ids = [int(p) for p in parts]
            except ValueError:
                raise BadRequest(f"{self.name} must be comma-separated integers") from None
            if any(not 0 <= i < 2**53 for i in ids):
                raise BadRequest(f"{self.name}: ids must be between 0 and 2^53")
            return list(dict.fromkeys(ids))
        raise AssertionError(f"unknown parameter kind {self.kind}")

    def _parse_default(self) -> Any:
        if self.kind == "duration" and isinstance(self.default, str):
            return parse_duration(self.default)
        if self.kind == "ids":
            return list(self.default or [])
        return self.default

    def _check_range(self, value: float) -> None:
        if self.low is not None and value < self.low:
            raise BadRequest(f"{self.name} must be at least {self._bound(self.low)}")
        if self.high is not None and value > self.high:
            raise BadRequest(f"{self.name} must be at most {self._bound(self.high)}")

    def _bound(self, v: float) -> str:
        return f"{v:g}s" if self.kind == "duration" else f"{v:g}"

    def openapi(self) -> dict[str, Any]:
        """This parameter as an OpenAPI 3 ``parameters`` entry."""
        schema: dict[str, Any]
        if self.kind == "int":
            schema = {"type": "integer"}
            if self.low is not None:
                schema["minimum"] = int(self.low)
            if self.high is not None:
                schema["maximum"] = int(self.high)
        elif self.kind == "enum":
            schema = {"type": "string", "enum": list(self.choices)}
        elif self.kind == "duration":
            schema = {"type": "string", "pattern": DURATION_PATTERN}
        elif self.kind == "ids":
            schema = {"type": "string", "pattern": r"^[0-9]{1,15}(,[0-9]{1,15}){0,%d}$"}
            schema["pattern"] = schema["pattern"] % max(int(self.high or 1) - 1, 0)
        else:
            schema = {"type": "string", "maxLength": self.max_len}
            if self.required:
                schema["minLength"] = 1
        if self.default is not None and self.kind != "ids":
            schema["default"] = self.default
        desc = self.description
        if self.kind == "duration":
            desc += f" ({self._bound(self.low or 0)} to {self._bound(self.high or 0)})"
        return {
            "name": self.name,
            "in": "query",
            "required": self.required,
            "description": desc,
            "schema": schema,
        }


def parse(query: Mapping[str, str], specs: Sequence[Param]) -> dict[str, Any]:
    """Typed values of ``specs`` from ``query`` (defaults for absent ones)."""
    return {p.name: p.parse(query.get(p.name)) for p in specs}


def stream_param(default: str | None = None) -> Param:
    what = "stream key" + (f" (default {default!r})" if default else " (default: every stream)")
    return Param("stream", "str", what, default=default)


def limit_param(default: int, high: int) -> Param:
    return Param("limit", "int", "how many rows at most", default=default, low=1, high=high)
