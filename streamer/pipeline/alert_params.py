"""``--alert-params JSON``: ``workers.alerts.AlertSettings`` fields, checked with clear errors."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from streamer.config import ConfigError
from workers.alerts import AlertSettings


def alert_settings(params: Mapping[str, Any] | None) -> AlertSettings:
    """``AlertSettings`` from ``--alert-params``; unknown names, wrong types and bad
    values raise :class:`ConfigError` naming the field and the accepted ones."""

    params = dict(params or {})
    fields = {f.name: f for f in dataclasses.fields(AlertSettings)}
    defaults = AlertSettings()
    unknown = sorted(set(params) - set(fields))
    if unknown:
        raise ConfigError(
            f"--alert-params: unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(fields))}"
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
                f"--alert-params: {name} must be {'an integer' if want is int else 'a number'}, "
                f"got {value!r}"
            )
    try:
        return AlertSettings(**params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"--alert-params {params}: {exc}") from exc
