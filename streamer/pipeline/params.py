"""``--alert-params`` / ``--event-time-params`` / ``--interest-params``: JSON objects of
settings fields, checked.

Each builds a frozen settings dataclass of ``workers`` (``AlertSettings``,
``EventTimePolicy``, ``InterestSettings``) whose fields are all numbers; unknown names, wrong types
and out-of-range values raise :class:`ConfigError` naming the option, the
field and the accepted names, before anything starts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from streamer.config import ConfigError
from workers.alerts import AlertSettings
from workers.event_clock import EventTimePolicy
from workers.interests import InterestSettings

T = TypeVar("T")


def numeric_settings(cls: type[T], params: Mapping[str, Any] | None, option: str) -> T:
    """``cls(**params)`` for a dataclass of int and float fields, with clear errors."""
    params = dict(params or {})
    fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    defaults = cls()
    unknown = sorted(set(params) - fields)
    if unknown:
        raise ConfigError(
            f"{option}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(fields))}"
        )
    for name, value in params.items():
        want = type(getattr(defaults, name))
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if want is int:
            ok = ok and float(value).is_integer()
            if ok:
                params[name] = int(value)
        elif ok:
            params[name] = float(value)
        if not ok:
            raise ConfigError(
                f"{option}: {name} must be {'an integer' if want is int else 'a number'}, "
                f"got {value!r}"
            )
    try:
        return cls(**params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{option} {params}: {exc}") from exc


def alert_settings(params: Mapping[str, Any] | None) -> AlertSettings:
    """``AlertSettings`` from ``--alert-params``."""
    return numeric_settings(AlertSettings, params, "--alert-params")


def event_time_policy(params: Mapping[str, Any] | None) -> EventTimePolicy:
    """``EventTimePolicy`` from ``--event-time-params`` (docs/event_time.md)."""
    return numeric_settings(EventTimePolicy, params, "--event-time-params")


def interest_settings(params: Mapping[str, Any] | None) -> InterestSettings:
    """``InterestSettings`` from ``--interest-params`` (docs/interests.md)."""
    return numeric_settings(InterestSettings, params, "--interest-params")
