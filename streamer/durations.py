"""Durations on the command line and in queries: ``90s``, ``15m``, ``1h``, ``2d``, ``1h30m``."""

from __future__ import annotations

import argparse
import re

#: Seconds per unit letter.
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_duration(text: str) -> float:
    """Seconds in ``text``: one or more ``<number><unit>`` parts, units s m h d w.

    A bare number is rejected rather than guessed (seconds? minutes?).
    """
    t = str(text).strip().lower()
    if not t:
        raise ValueError("empty duration: use e.g. 90s, 15m, 1h, 2d")
    pos, total = 0, 0.0
    for m in _PART.finditer(t):
        if m.start() != pos:
            break
        total += float(m.group(1)) * UNITS[m.group(2)]
        pos = m.end()
    if pos != len(t):
        hint = " (a unit is required)" if re.fullmatch(r"\d+(\.\d+)?", t) else ""
        raise ValueError(
            f"bad duration {text!r}{hint}: use a number and a unit, e.g. 90s, 15m, 1h, 2d, 1h30m"
        )
    if total <= 0:
        raise ValueError(f"duration {text!r} must be longer than zero")
    return total


def duration_arg(text: str) -> float:
    """``argparse`` type for durations: the error message names the accepted forms."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def format_duration(seconds: float) -> str:
    """``900`` -> ``15m``; ``5400`` -> ``1h30m`` (largest units first)."""
    s = round(seconds)
    if s <= 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        n, s = divmod(s, UNITS[unit])
        if n:
            parts.append(f"{n}{unit}")
    return "".join(parts)
